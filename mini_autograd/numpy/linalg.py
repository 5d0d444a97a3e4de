"""Differentiable ``numpy.linalg``: solve and inv by their adjoint rules, norm by composition."""

import numpy as _np

from ..tracer import getval, primitive
from . import ops

_shape = ops._shape


def _solve(a, b):
    return _np.linalg.solve(a, b)


def _solve_vectors(a, v):
    """a^{-1} v for v a stack of vectors (shape a's batch + (n,)), not one matrix."""
    return solve(a, ops.expand_dims(v, -1))[..., 0]


# A 1-D b is one vector, shared by every matrix of a stacked a; then x and its cotangent g
# have shape a's batch + (n,): stacks of vectors, which the rules must not read as matrices.
# Each rule sums its result back over the axes that broadcasting added (unbroadcast).

def _solve_vjp_a(g, ans, a, b):
    # x = A^{-1} b  =>  dL/dA = -(A^{-T} g) x^T : one more solve, with A transposed
    a_t = ops.swapaxes(a, -1, -2)
    if _np.ndim(getval(b)) == 1:
        grad_a = -ops.expand_dims(_solve_vectors(a_t, g), -1) * ops.expand_dims(ans, -2)
    else:
        grad_a = -ops.matmul(solve(a_t, g), ops.swapaxes(ans, -1, -2))
    return ops.unbroadcast(grad_a, _shape(a))


def _solve_vjp_b(g, ans, a, b):
    a_t = ops.swapaxes(a, -1, -2)
    grad_b = _solve_vectors(a_t, g) if _np.ndim(getval(b)) == 1 else solve(a_t, g)
    return ops.unbroadcast(grad_b, _shape(b))


def _solve_jvp_a(t, ans, a, b):
    # dx = -A^{-1} dA x
    if _np.ndim(getval(b)) == 1:
        return -_solve_vectors(a, ops.matmul(t, ops.expand_dims(ans, -1))[..., 0])
    return -solve(a, ops.matmul(t, ans))


solve = primitive(_solve, name="solve",
                  flops=lambda ans, a, b: 2 * _np.shape(a)[-1] ** 3 // 3 + 2 * _np.size(b) * _np.shape(a)[-1])
solve.defvjp(_solve_vjp_a, _solve_vjp_b)
solve.defjvp(_solve_jvp_a, lambda t, ans, a, b: solve(a, t))

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
