"""mini_autograd: a small, readable automatic-differentiation engine over NumPy.

    import mini_autograd.numpy as np
    from mini_autograd import grad

    grad(lambda x: np.sum(np.tanh(x) ** 2))(np.ones(3))

Its public API is a drop-in subset of HIPS autograd's.  Read the modules in this
order: ``tracer`` (boxes, primitives, recording a node), ``core`` (reverse and forward
mode), ``numpy/ops`` (the primitives and their rules), ``differential_operators``.
"""

from . import numpy  # noqa: F401  (installs Box's ndarray interface)
from .core import make_jvp, make_vjp
from .differential_operators import (
    elementwise_grad,
    grad,
    hessian,
    hessian_vector_product,
    jacobian,
    jacobian_fwd,
    stop_gradient,
    value_and_grad,
)
from .tracer import Box, NoDerivativeError, Primitive, primitive

__all__ = [
    "grad", "value_and_grad", "elementwise_grad", "jacobian", "jacobian_fwd", "hessian",
    "hessian_vector_product", "make_vjp", "make_jvp", "stop_gradient", "primitive",
    "Primitive", "Box", "NoDerivativeError",
]
__version__ = "0.1.0"
