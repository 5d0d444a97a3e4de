"""Differentiable pieces of SciPy: ``mini_autograd.scipy.special``."""

from . import special  # noqa: F401
