"""The user-facing derivative operators, each a few lines over ``make_vjp``/``make_jvp``.

Names and signatures follow HIPS autograd, so that a function in the book can be
differentiated by either library by swapping one import.
"""

import numpy as _np

from . import numpy as mnp
from .core import _with_argnum, _vjp_of, _jvp_of, make_jvp, make_vjp
from .tracer import getval

__all__ = [
    "grad", "value_and_grad", "elementwise_grad", "jacobian", "hessian",
    "hessian_vector_product", "make_vjp", "make_jvp", "stop_gradient",
]


def _scalar_output_check(ans, name):
    value = getval(ans)
    if _np.size(value) != 1:
        raise TypeError(
            f"{name} needs a function with a scalar output, but this one returned shape "
            f"{_np.shape(value)}. For a non-scalar output use elementwise_grad (sum of "
            f"rows of the Jacobian), jacobian (the full matrix), or make_vjp (any "
            f"vector-Jacobian product)."
        )
    if _np.iscomplexobj(value) or not _np.issubdtype(_np.result_type(value), _np.floating):
        raise TypeError(
            f"{name} needs a real floating-point output, got dtype {_np.result_type(value)}."
        )


def value_and_grad(fun, argnum=0):
    """Return a function computing ``(fun(*args), gradient of fun w.r.t. args[argnum])``."""

    def value_and_grad_fun(*args, **kwargs):
        unary, x = _with_argnum(lambda *a: fun(*a, **kwargs), argnum, args)
        vjp, ans = _vjp_of(unary, x)
        _scalar_output_check(ans, "grad")
        return ans, vjp(mnp.ones_like(ans) if _np.ndim(getval(ans)) else 1.0)

    return value_and_grad_fun


def grad(fun, argnum=0):
    """The gradient of a scalar-valued ``fun`` with respect to positional argument ``argnum``.

    ``argnum`` may be a tuple of positions; the gradient is then a tuple.  The argument
    may be a float, an array, or any nesting of lists, tuples and dicts of them; the
    gradient has the same structure.
    """

    def grad_fun(*args, **kwargs):
        return value_and_grad(fun, argnum)(*args, **kwargs)[1]

    grad_fun.__name__ = f"grad_{getattr(fun, '__name__', 'fun')}"
    grad_fun.__doc__ = f"Gradient of {getattr(fun, '__name__', 'fun')} w.r.t. argument {argnum}."
    return grad_fun


def elementwise_grad(fun, argnum=0):
    """The VJP with a vector of ones: for an elementwise ``fun``, its derivative at each point."""

    def ew_grad_fun(*args, **kwargs):
        unary, x = _with_argnum(lambda *a: fun(*a, **kwargs), argnum, args)
        vjp, ans = _vjp_of(unary, x)
        return vjp(mnp.ones_like(ans) if _np.ndim(getval(ans)) else 1.0)

    return ew_grad_fun


def jacobian(fun, argnum=0):
    """The full Jacobian, of shape ``out.shape + in.shape``, built one VJP per output entry.

    Reverse mode costs one backward pass per *output*; see ``jacobian_fwd`` for the
    column-by-column version that costs one forward pass per *input*.
    """

    def jacobian_fun(*args, **kwargs):
        unary, x = _with_argnum(lambda *a: fun(*a, **kwargs), argnum, args)
        vjp, ans = _vjp_of(unary, x)
        out_shape = _np.shape(getval(ans))
        in_shape = _np.shape(getval(x))
        rows = []
        for i in range(int(_np.prod(out_shape))):
            basis = _np.zeros(int(_np.prod(out_shape)))
            basis[i] = 1.0
            rows.append(vjp(basis.reshape(out_shape)))
        return mnp.reshape(mnp.stack(rows), out_shape + in_shape)

    return jacobian_fun


def jacobian_fwd(fun, argnum=0):
    """The full Jacobian built column by column with forward mode (one JVP per input entry)."""

    def jacobian_fun(*args, **kwargs):
        unary, x = _with_argnum(lambda *a: fun(*a, **kwargs), argnum, args)
        in_shape = _np.shape(getval(x))
        n = int(_np.prod(in_shape))
        columns, ans = [], None
        for j in range(n):
            basis = _np.zeros(n)
            basis[j] = 1.0
            ans, column = _jvp_of(unary, x, basis.reshape(in_shape))
            columns.append(column)
        out_shape = _np.shape(getval(ans))
        return mnp.reshape(mnp.stack(columns, axis=-1), out_shape + in_shape)

    return jacobian_fun


def hessian(fun, argnum=0):
    """The Hessian: the Jacobian of the gradient."""
    return jacobian(jacobian(fun, argnum), argnum)


def hessian_vector_product(fun, argnum=0):
    """``hvp(*args, vector)``: H v by forward-over-reverse (one JVP of the gradient).

    Costs a small constant times one gradient evaluation, never forms H.
    """

    def hvp(*args, **kwargs):
        *args, vector = args
        unary, x = _with_argnum(lambda *a: fun(*a, **kwargs), argnum, tuple(args))
        return _jvp_of(grad(unary), x, vector)[1]

    return hvp


def stop_gradient(x):
    """The value of ``x`` with every trace removed: a constant to all derivatives."""
    return getval(x)
