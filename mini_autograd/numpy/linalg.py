"""Differentiable ``numpy.linalg``: solve and inv by their adjoint rules, norm by composition."""

import numpy as _np

from ..tracer import getval, primitive
from . import ops

_shape = ops._shape


def _solve(a, b):
    return _np.linalg.solve(a, b)


def _as_matrix(b):
    """Treat a vector right-hand side as a one-column matrix."""
    return ops.expand_dims(b, -1) if _np.ndim(getval(b)) == 1 else b


def _solve_vjp_a(g, ans, a, b):
    # x = A^{-1} b  =>  dL/dA = -(A^{-T} g) x^T : one more solve, with A transposed
    gb = solve(ops.swapaxes(a, -1, -2), g)
    return -ops.matmul(_as_matrix(gb), ops.swapaxes(_as_matrix(ans), -1, -2))


def _solve_vjp_b(g, ans, a, b):
    return solve(ops.swapaxes(a, -1, -2), g)


solve = primitive(_solve, name="solve",
                  flops=lambda ans, a, b: 2 * _np.shape(a)[-1] ** 3 // 3 + 2 * _np.size(b) * _np.shape(a)[-1])
solve.defvjp(_solve_vjp_a, _solve_vjp_b)
solve.defjvp(lambda t, ans, a, b: -solve(a, ops.matmul(t, ans) if _np.ndim(getval(ans)) > 1
                                         else ops.matmul(t, ans)),
             lambda t, ans, a, b: solve(a, t))

inv = primitive(_np.linalg.inv, name="inv", flops=lambda ans, a: 2 * _np.shape(a)[-1] ** 3)
inv.defvjp(lambda g, ans, a: -ops.matmul(ops.swapaxes(ans, -1, -2),
                                         ops.matmul(g, ops.swapaxes(ans, -1, -2))))
inv.defjvp(lambda t, ans, a: -ops.matmul(ans, ops.matmul(t, ans)))


def _det(a):
    return _np.linalg.det(a)


det = primitive(_det, name="det", flops=lambda ans, a: 2 * _np.shape(a)[-1] ** 3 // 3)
det.defvjp(lambda g, ans, a: ops.expand_dims(ops.expand_dims(g * ans, -1), -1)
           * ops.swapaxes(inv(a), -1, -2))
det.defjvp(lambda t, ans, a: ans * ops.sum(ops.swapaxes(inv(a), -1, -2) * t, axis=(-2, -1)))


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or Frobenius norm (ord None/2/'fro', 1, inf), composed from differentiable ops.

    The derivative of the 2-norm, x/||x||, is undefined at x = 0 (NaN there, as in autograd).
    """
    if ord in (None, 2, "fro") and (ord != 2 or axis is None and _np.ndim(getval(x)) == 1
                                      or isinstance(axis, int)):
        return ops.sqrt(ops.sum(x * x, axis=axis, keepdims=keepdims))
    ndim = _np.ndim(getval(x))
    vector = isinstance(axis, int) or axis is None and ndim == 1
    if ord == 1 and vector:
        return ops.sum(ops.absolute(x), axis=axis, keepdims=keepdims)
    if ord == _np.inf and vector:
        return ops.max(ops.absolute(x), axis=axis, keepdims=keepdims)
    matrix = axis is None and ndim == 2 or isinstance(axis, tuple) and len(axis) == 2
    if ord in (1, _np.inf) and matrix:
        # largest column sum (ord=1) or row sum (ord=inf) of |x|, as numpy defines them
        rows, cols = axis if axis is not None else (0, 1)
        if ord == _np.inf:
            rows, cols = cols, rows
        sums = ops.sum(ops.absolute(x), axis=rows, keepdims=True)
        out = ops.max(sums, axis=cols, keepdims=True)
        return out if keepdims else ops.squeeze(out, (rows % ndim, cols % ndim))
    raise NotImplementedError(
        f"norm(ord={ord!r}, axis={axis!r}) on shape {_shape(x)}: supported are vector norms "
        "(ord None, 1, 2, inf), the Frobenius norm (ord None or 'fro') and the matrix norms "
        "ord 1 and inf."
    )


def __getattr__(name):
    from ._fallback import guarded

    return guarded(_np.linalg, name, "mini_autograd.numpy.linalg")
