"""Differentiable pieces of SciPy: ``mini_autograd.scipy.special`` and ``.stats.norm``."""

from . import special, stats  # noqa: F401
