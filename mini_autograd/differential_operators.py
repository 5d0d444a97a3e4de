"""The user-facing derivative operators, each a few lines over ``vjp_of``/``jvp_of``.

Names and signatures follow HIPS autograd, so that a function in the book can be
differentiated by either library by swapping one import.  Each is written for a
function of one argument ``x``; `over_argnum` turns it into ``op(fun, argnum)``.
Inputs and outputs may be arrays or containers (lists, tuples, dicts) of them.
"""

import numpy as _np

from . import numpy as mnp
from .core import jvp_of, make_jvp, make_vjp, over_argnum, vjp_of
from .guards import check_scalar_output
from .tracer import getval
from .tree import tree_flatten, tree_map

__all__ = [
    "grad", "value_and_grad", "elementwise_grad", "jacobian", "jacobian_fwd", "hessian",
    "hessian_vector_product", "make_vjp", "make_jvp", "stop_gradient",
]


@over_argnum
def value_and_grad(fun, x):
    """``(fun(*args), gradient of fun w.r.t. args[argnum])`` for a scalar-valued ``fun``."""
    vjp, ans = vjp_of(fun, x)
    check_scalar_output(ans, "grad")
    return ans, vjp(mnp.ones_like(ans) if _np.ndim(getval(ans)) else 1.0)


@over_argnum
def grad(fun, x):
    """The gradient of a scalar-valued ``fun`` with respect to positional argument ``argnum``.

    ``argnum`` may be a tuple of positions; the gradient is then a tuple.  The argument
    may be a float, an array, or any nesting of lists, tuples and dicts of them; the
    gradient has the same structure.
    """
    return value_and_grad(fun)(x)[1]


@over_argnum
def elementwise_grad(fun, x):
    """The VJP with ones: for an elementwise ``fun``, its derivative at each point."""
    vjp, ans = vjp_of(fun, x)
    return vjp(tree_map(lambda a: mnp.ones_like(a) if _np.ndim(getval(a)) else 1.0, ans))


def _basis(shape, i):
    e = _np.zeros(int(_np.prod(shape)))
    e[i] = 1.0
    return e.reshape(shape)


@over_argnum
def jacobian(fun, x):
    """The full Jacobian, of shape ``out.shape + in.shape``, built one VJP per output entry.

    For containers it is nested: ``J[output leaf][input leaf]`` (each a plain array of
    shape ``out_leaf.shape + in_leaf.shape``).  Reverse mode costs one backward pass per
    *output*; see `jacobian_fwd` for the version that costs one forward pass per *input*.
    """
    vjp, ans = vjp_of(fun, x)
    outs, out_unflatten = tree_flatten(ans)
    ins, in_unflatten = tree_flatten(x)
    zeros = [_np.zeros(_np.shape(getval(o))) for o in outs]
    blocks = []
    for k, out in enumerate(outs):
        shape = _np.shape(getval(out))
        rows = [tree_flatten(vjp(out_unflatten(zeros[:k] + [_basis(shape, i)] + zeros[k + 1:])))[0]
                for i in range(int(_np.prod(shape)))]
        blocks.append(in_unflatten([_stacked([r[j] for r in rows], 0, shape, _np.shape(getval(a)))
                                    for j, a in enumerate(ins)]))
    return out_unflatten(blocks)


@over_argnum
def jacobian_fwd(fun, x):
    """The full Jacobian built column by column with forward mode (one JVP per input entry)."""
    ins, in_unflatten = tree_flatten(x)
    zeros = [_np.zeros(_np.shape(getval(a))) for a in ins]
    columns, ans = [], None  # columns[j][i]: the output leaves' tangents for entry i of input j
    for j, a in enumerate(ins):
        shape = _np.shape(getval(a))
        columns.append([])
        for i in range(int(_np.prod(shape))):
            ans, tangent = jvp_of(fun, x, in_unflatten(zeros[:j] + [_basis(shape, i)] + zeros[j + 1:]))
            columns[j].append(tree_flatten(tangent)[0])
    if ans is None:
        ans = fun(x)
    outs, out_unflatten = tree_flatten(ans)
    return out_unflatten([
        in_unflatten([_stacked([c[k] for c in columns[j]], -1, _np.shape(getval(out)),
                               _np.shape(getval(a))) for j, a in enumerate(ins)])
        for k, out in enumerate(outs)])


def _stacked(pieces, axis, out_shape, in_shape):
    """One Jacobian block of shape ``out_shape + in_shape`` from its rows (or columns)."""
    if not pieces:
        return _np.zeros(out_shape + in_shape)
    return mnp.reshape(mnp.stack(pieces, axis=axis), out_shape + in_shape)


def hessian(fun, argnum=0):
    """The Hessian: the Jacobian of the gradient (nested ``H[leaf][leaf]`` for containers)."""
    return jacobian(jacobian(fun, argnum), argnum)


def hessian_vector_product(fun, argnum=0):
    """``hvp(*args, vector)``: H v by forward-over-reverse (one JVP of the gradient).

    Costs a small constant times one gradient evaluation, never forms H.
    """

    @over_argnum
    def hessian_vector_product_at(unary, x):
        return lambda vector: jvp_of(grad(unary), x, vector)[1]

    def hvp(*args, **kwargs):
        *args, vector = args
        return hessian_vector_product_at(fun, argnum)(*args, **kwargs)(vector)

    return hvp


def stop_gradient(x):
    """The value of ``x`` with every trace removed: a constant to all derivatives."""
    return getval(x)
