"""Differentiable NumPy: every primitive with its VJP and JVP rule right beside it.

Conventions.  A VJP rule ``lambda g, ans, *args`` returns the cotangent of one argument;
a JVP rule ``lambda t, ans, *args`` returns the tangent of the output caused by the
tangent ``t`` of one argument.  Both are written with the functions of this module (not
raw NumPy), so the rules are themselves differentiable and higher derivatives work.

Broadcasting.  ``x + y`` with ``x.shape == (3, 1)`` and ``y.shape == (4,)`` gives a
(3, 4) answer: each entry of ``x`` was used four times, so its cotangent is the sum of
four entries of ``g``.  ``unbroadcast`` does that summing; every binary rule ends in it.
"""

import builtins as _builtins

import numpy as _np

from ..tracer import Box, getval, primitive

# ----------------------------------------------------------------------------------
# Helpers used by the rules


def _shape(x):
    while x.__class__ is Box:
        x = x._value
    try:
        return x.shape
    except AttributeError:
        return _np.shape(x)


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting (differentiably)."""
    gshape = _shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra > 0:
        g = sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, size in enumerate(shape) if size == 1 and _shape(g)[i] != 1)
    if axes:
        g = sum(g, axis=axes, keepdims=True)
    return g


def _as_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else a for a in axis)


def _restore_reduced(g, x_shape, axis, keepdims):
    """Put back the reduced axes of a reduction's cotangent so it broadcasts against x."""
    if keepdims:
        return g
    if axis is None:
        return reshape(g, (1,) * len(x_shape))
    axes = _as_axes(axis, len(x_shape))
    new_shape = list(_shape(g))
    for a in sorted(axes):
        new_shape.insert(a, 1)
    return reshape(g, tuple(new_shape))


# ----------------------------------------------------------------------------------
# Elementwise arithmetic

add = primitive(_np.add, name="add", saves="shapes")
add.defvjp(lambda g, ans, x, y: unbroadcast(g, _shape(x)),
           lambda g, ans, x, y: unbroadcast(g, _shape(y)))
add.defjvp(lambda t, ans, x, y: broadcast_to(t, _shape(ans)),
           lambda t, ans, x, y: broadcast_to(t, _shape(ans)))

subtract = primitive(_np.subtract, name="subtract", saves="shapes")
subtract.defvjp(lambda g, ans, x, y: unbroadcast(g, _shape(x)),
                lambda g, ans, x, y: unbroadcast(-g, _shape(y)))
subtract.defjvp(lambda t, ans, x, y: broadcast_to(t, _shape(ans)),
                lambda t, ans, x, y: broadcast_to(-t, _shape(ans)))

multiply = primitive(_np.multiply, name="multiply", saves="args")
multiply.defvjp(lambda g, ans, x, y: unbroadcast(g * y, _shape(x)),
                lambda g, ans, x, y: unbroadcast(x * g, _shape(y)))
multiply.defjvp(lambda t, ans, x, y: broadcast_to(t * y, _shape(ans)),
                lambda t, ans, x, y: broadcast_to(x * t, _shape(ans)))

divide = primitive(_np.divide, name="divide", saves="args")
divide.defvjp(lambda g, ans, x, y: unbroadcast(g / y, _shape(x)),
              lambda g, ans, x, y: unbroadcast(-g * x / y**2, _shape(y)))
divide.defjvp(lambda t, ans, x, y: broadcast_to(t / y, _shape(ans)),
              lambda t, ans, x, y: broadcast_to(-t * x / y**2, _shape(ans)))
true_divide = divide


def _power_dx(g, ans, x, y):
    return unbroadcast(g * y * x ** _exponent_less_one(y), _shape(x))


def _exponent_less_one(y):
    # y - 1, but 1 where y == 0: keeps 0 ** -1 out of the rule (the term is 0 anyway).  The
    # condition is y's value: a traced y (x ** y differentiated twice) is no condition.
    return where(getval(y) != 0, y - 1, 1.0)


def _power_dy(g, ans, x, y):
    return unbroadcast(g * log(_replace_zero(x, 1.0)) * ans, _shape(y))


def _replace_zero(x, val):
    return where(getval(x) == 0, val, x)


power = primitive(_np.power, name="power")
power.defvjp(_power_dx, _power_dy)
power.defjvp(lambda t, ans, x, y: broadcast_to(t * y * x ** _exponent_less_one(y), _shape(ans)),
             lambda t, ans, x, y: broadcast_to(t * log(_replace_zero(x, 1.0)) * ans, _shape(ans)))

negative = primitive(_np.negative, name="negative", saves="shapes")
negative.defvjp(lambda g, ans, x: -g)
negative.defjvp(lambda t, ans, x: -t)


logaddexp = primitive(_np.logaddexp, name="logaddexp", saves="all")
logaddexp.defvjp(lambda g, ans, x, y: unbroadcast(g * exp(x - ans), _shape(x)),
                 lambda g, ans, x, y: unbroadcast(g * exp(y - ans), _shape(y)))
logaddexp.defjvp(lambda t, ans, x, y: broadcast_to(t * exp(x - ans), _shape(ans)),
                 lambda t, ans, x, y: broadcast_to(t * exp(y - ans), _shape(ans)))


def _balanced_eq(x, z, y):
    """Share of the gradient that goes to x in max/min(x, y) = z: 1, 0, or 1/2 at a tie."""
    x, z, y = getval(x), getval(z), getval(y)
    return (x == z) / (1.0 + (x == y))


maximum = primitive(_np.maximum, name="maximum")
maximum.defvjp(lambda g, ans, x, y: unbroadcast(g * _balanced_eq(x, ans, y), _shape(x)),
               lambda g, ans, x, y: unbroadcast(g * _balanced_eq(y, ans, x), _shape(y)))
maximum.defjvp(lambda t, ans, x, y: broadcast_to(t * _balanced_eq(x, ans, y), _shape(ans)),
               lambda t, ans, x, y: broadcast_to(t * _balanced_eq(y, ans, x), _shape(ans)))

minimum = primitive(_np.minimum, name="minimum")
minimum.defvjp(lambda g, ans, x, y: unbroadcast(g * _balanced_eq(x, ans, y), _shape(x)),
               lambda g, ans, x, y: unbroadcast(g * _balanced_eq(y, ans, x), _shape(y)))
minimum.defjvp(lambda t, ans, x, y: broadcast_to(t * _balanced_eq(x, ans, y), _shape(ans)),
               lambda t, ans, x, y: broadcast_to(t * _balanced_eq(y, ans, x), _shape(ans)))

# ----------------------------------------------------------------------------------
# Elementwise functions of one argument: f(x) with f'(x) times g (or t)


def _unary(fun, name, vjp, jvp, saves="args"):
    """A unary elementwise primitive with its two rules."""
    return primitive(fun, name=name, saves=saves).defvjp(vjp).defjvp(jvp)


# Each rule is f'(x) times g (reverse) or times t (forward).
exp = _unary(_np.exp, "exp", lambda g, ans, x: g * ans, lambda t, ans, x: t * ans, saves="ans")
expm1 = _unary(_np.expm1, "expm1",
               lambda g, ans, x: g * (ans + 1.0), lambda t, ans, x: t * (ans + 1.0), saves="ans")
log = _unary(_np.log, "log", lambda g, ans, x: g / x, lambda t, ans, x: t / x)
log1p = _unary(_np.log1p, "log1p", lambda g, ans, x: g / (x + 1.0), lambda t, ans, x: t / (x + 1.0))
log2 = _unary(_np.log2, "log2", lambda g, ans, x: g / (x * _np.log(2.0)),
              lambda t, ans, x: t / (x * _np.log(2.0)))
log10 = _unary(_np.log10, "log10", lambda g, ans, x: g / (x * _np.log(10.0)),
               lambda t, ans, x: t / (x * _np.log(10.0)))
sqrt = _unary(_np.sqrt, "sqrt", lambda g, ans, x: g * 0.5 / ans, lambda t, ans, x: t * 0.5 / ans,
              saves="ans")
square = _unary(_np.square, "square", lambda g, ans, x: g * 2.0 * x, lambda t, ans, x: t * 2.0 * x)
reciprocal = _unary(_np.reciprocal, "reciprocal", lambda g, ans, x: -g * ans * ans,
                    lambda t, ans, x: -t * ans * ans, saves="ans")
sin = _unary(_np.sin, "sin", lambda g, ans, x: g * cos(x), lambda t, ans, x: t * cos(x))
cos = _unary(_np.cos, "cos", lambda g, ans, x: -g * sin(x), lambda t, ans, x: -t * sin(x))
tan = _unary(_np.tan, "tan", lambda g, ans, x: g * (1.0 + ans * ans),
             lambda t, ans, x: t * (1.0 + ans * ans), saves="ans")
arcsin = _unary(_np.arcsin, "arcsin", lambda g, ans, x: g / sqrt(1.0 - x * x),
                lambda t, ans, x: t / sqrt(1.0 - x * x))
arccos = _unary(_np.arccos, "arccos", lambda g, ans, x: -g / sqrt(1.0 - x * x),
                lambda t, ans, x: -t / sqrt(1.0 - x * x))
arctan = _unary(_np.arctan, "arctan", lambda g, ans, x: g / (1.0 + x * x),
                lambda t, ans, x: t / (1.0 + x * x))
sinh = _unary(_np.sinh, "sinh", lambda g, ans, x: g * cosh(x), lambda t, ans, x: t * cosh(x))
cosh = _unary(_np.cosh, "cosh", lambda g, ans, x: g * sinh(x), lambda t, ans, x: t * sinh(x))
tanh = _unary(_np.tanh, "tanh", lambda g, ans, x: g * (1.0 - ans * ans),
              lambda t, ans, x: t * (1.0 - ans * ans), saves="ans")
arctanh = _unary(_np.arctanh, "arctanh", lambda g, ans, x: g / (1.0 - x * x),
                 lambda t, ans, x: t / (1.0 - x * x))
arcsinh = _unary(_np.arcsinh, "arcsinh", lambda g, ans, x: g / sqrt(x * x + 1.0),
                 lambda t, ans, x: t / sqrt(x * x + 1.0))
# |x| has derivative sign(x); at 0 we pick 0, as autograd does.
absolute = _unary(_np.absolute, "absolute", lambda g, ans, x: g * _np.sign(getval(x)),
                  lambda t, ans, x: t * _np.sign(getval(x)))
abs = absolute  # noqa: A001  (mirrors numpy's alias)
fabs = absolute


def _clip_mask(ans, a_min, a_max):
    ans = getval(ans)
    inside = _np.ones(_np.shape(ans), dtype=bool)
    if a_min is not None:
        inside &= ans != getval(a_min)
    if a_max is not None:
        inside &= ans != getval(a_max)
    return inside


clip = primitive(_np.clip, name="clip")
clip.defvjp(lambda g, ans, x, a_min=None, a_max=None: g * _clip_mask(ans, a_min, a_max))
clip.defjvp(lambda t, ans, x, a_min=None, a_max=None: t * _clip_mask(ans, a_min, a_max))

where = primitive(_np.where, name="where", saves="shapes")
where.defvjp(None,
             lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), _shape(x)),
             lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), _shape(y)))
where.defjvp(None,
             lambda t, ans, c, x, y: where(c, broadcast_to(t, _shape(ans)), 0.0),
             lambda t, ans, c, x, y: where(c, 0.0, broadcast_to(t, _shape(ans))))

# ----------------------------------------------------------------------------------
# Reductions


def _sum_flops(ans, x, *args, **kwargs):
    return _np.size(getval(x))


sum = primitive(_np.sum, name="sum", saves="shapes", flops=_sum_flops)  # noqa: A001
sum.defvjp(lambda g, ans, x, axis=None, keepdims=False:
           broadcast_to(_restore_reduced(g, _shape(x), axis, keepdims), _shape(x)))
sum.defjvp(lambda t, ans, x, axis=None, keepdims=False: sum(t, axis=axis, keepdims=keepdims))


def _count(x_shape, axis):
    axes = _as_axes(axis, len(x_shape))
    return int(_np.prod([x_shape[a] for a in axes])) if axes else 1


mean = primitive(_np.mean, name="mean", saves="shapes", flops=_sum_flops)
mean.defvjp(lambda g, ans, x, axis=None, keepdims=False:
            broadcast_to(_restore_reduced(g, _shape(x), axis, keepdims), _shape(x))
            / _count(_shape(x), axis))
mean.defjvp(lambda t, ans, x, axis=None, keepdims=False: mean(t, axis=axis, keepdims=keepdims))


def _chooser_share(ans, x, axis, keepdims):
    """Where x attains its max/min along the axes: 1/(number of ties) there, 0 elsewhere."""
    x = getval(x)
    full = _restore_reduced(getval(ans), _np.shape(x), axis, keepdims)
    hit = x == full
    return hit / _np.sum(hit, axis=axis, keepdims=True)


def _chooser_vjp(g, ans, x, axis=None, keepdims=False):
    share = _chooser_share(ans, x, axis, keepdims)
    return broadcast_to(_restore_reduced(g, _shape(x), axis, keepdims), _shape(x)) * share


def _chooser_jvp(t, ans, x, axis=None, keepdims=False):
    return sum(t * _chooser_share(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)


max = primitive(_np.max, name="max", flops=_sum_flops)  # noqa: A001
max.defvjp(_chooser_vjp)
max.defjvp(_chooser_jvp)
amax = max
min = primitive(_np.min, name="min", flops=_sum_flops)  # noqa: A001
min.defvjp(_chooser_vjp)
min.defjvp(_chooser_jvp)
amin = min


def prod(x, axis=None, keepdims=False):
    """Product of entries, as exp(sum(log|x|)) times signs would lose zeros; use a cumprod-free form."""
    if x.__class__ is Box and _np.any(getval(x) == 0):  # constants: plain numpy.prod
        raise NotImplementedError(
            "prod: the derivative at an input containing zeros is not implemented; "
            "multiply the factors explicitly instead."
        )
    return _prod(x, axis=axis, keepdims=keepdims)


_prod = primitive(_np.prod, name="prod", flops=_sum_flops)
_prod.defvjp(lambda g, ans, x, axis=None, keepdims=False:
             broadcast_to(_restore_reduced(g * ans, _shape(x), axis, keepdims), _shape(x)) / x)
_prod.defjvp(lambda t, ans, x, axis=None, keepdims=False:
             sum(t * _restore_reduced(ans, _shape(x), axis, keepdims) / x, axis=axis,
                 keepdims=keepdims))


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance, composed from mean: its derivative follows automatically."""
    centred = x - mean(x, axis=axis, keepdims=True)
    n = _count(_shape(x), axis)
    return sum(centred * centred, axis=axis, keepdims=keepdims) / (n - ddof)


def std(x, axis=None, ddof=0, keepdims=False):
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def cumsum(x, axis=None):
    if axis is None:
        return _cumsum(ravel(x), 0)
    return _cumsum(x, axis)


_cumsum = primitive(lambda x, axis: _np.cumsum(x, axis=axis), name="cumsum", saves="shapes")
_cumsum.defvjp(lambda g, ans, x, axis: flip(_cumsum(flip(g, axis), axis), axis))
_cumsum.defjvp(lambda t, ans, x, axis: _cumsum(t, axis))

# ----------------------------------------------------------------------------------
# Linear algebra products


def _swap_last(x):
    return swapaxes(x, -1, -2)


def _matmul_vjp_x(g, ans, x, y):
    xd, yd = _np.ndim(getval(x)), _np.ndim(getval(y))
    if xd == 1 and yd == 1:
        return g * y
    if xd == 1:  # (k,) @ (..., k, m) -> (..., m): dx[k] = sum g[..., m] y[..., k, m]
        return unbroadcast(matmul(expand_dims(g, -2), _swap_last(y))[..., 0, :], _shape(x))
    if yd == 1:  # (..., n, k) @ (k,) -> (..., n)
        return unbroadcast(expand_dims(g, -1) * y, _shape(x))
    return unbroadcast(matmul(g, _swap_last(y)), _shape(x))


def _matmul_vjp_y(g, ans, x, y):
    xd, yd = _np.ndim(getval(x)), _np.ndim(getval(y))
    if xd == 1 and yd == 1:
        return g * x
    if xd == 1:  # (k,) @ (..., k, m): dy[..., k, m] = x[k] g[..., m]
        return unbroadcast(expand_dims(x, -1) * expand_dims(g, -2), _shape(y))
    if yd == 1:  # (..., n, k) @ (k,): dy[k] = sum_n g[..., n] x[..., n, k]
        return unbroadcast(matmul(expand_dims(g, -2), x)[..., 0, :], _shape(y))
    return unbroadcast(matmul(_swap_last(x), g), _shape(y))


def _matmul_flops(ans, x, y):
    return 2 * _np.size(ans) * _np.shape(getval(x))[-1]


matmul = primitive(_np.matmul, name="matmul", saves="args",
                   flops=_matmul_flops)
matmul.defvjp(_matmul_vjp_x, _matmul_vjp_y)
matmul.defjvp(lambda t, ans, x, y: matmul(t, y), lambda t, ans, x, y: matmul(x, t))


def dot(x, y):
    """``numpy.dot`` for scalars, vectors and matrices (the cases the book uses)."""
    xd, yd = len(_shape(x)), len(_shape(y))
    if xd == 0 or yd == 0:
        return multiply(x, y)
    if xd <= 2 and yd <= 2:
        return matmul(x, y)
    raise NotImplementedError(
        f"dot of arrays with shapes {_shape(x)} and {_shape(y)}: only 0-, 1- and 2-D "
        "arguments are supported; use matmul (batched) or einsum for higher dimensions."
    )


def inner(x, y):
    """Contract the last axis of x with the last axis of y (numpy.inner)."""
    if _np.ndim(getval(x)) == 0 or _np.ndim(getval(y)) == 0:
        return multiply(x, y)
    return tensordot(x, y, axes=([-1], [-1]))


def vdot(x, y):
    return sum(ravel(x) * ravel(y))


def outer(x, y):
    return multiply(reshape(x, (-1, 1)), reshape(y, (1, -1)))


def tensordot(a, b, axes=2):
    a_dims, b_dims = _np.ndim(getval(a)), _np.ndim(getval(b))
    letters = "abcdefghijklmnopqrstuvwxyz"
    if isinstance(axes, int):
        a_axes = list(range(a_dims - axes, a_dims))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = ([axes_] if isinstance(axes_, int) else list(axes_) for axes_ in axes)
    a_sub = list(letters[:a_dims])
    b_sub = list(letters[a_dims:a_dims + b_dims])
    for i, j in zip(a_axes, b_axes):
        b_sub[j] = a_sub[i]
    out = [c for i, c in enumerate(a_sub) if i not in [x % a_dims for x in a_axes]]
    out += [c for j, c in enumerate(b_sub) if j not in [x % b_dims for x in b_axes]]
    return einsum(f"{''.join(a_sub)},{''.join(b_sub)}->{''.join(out)}", a, b)


def _parse_einsum(subscripts, operands):
    """Explicit subscripts with any '...' spelled out as letters."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
    else:
        inputs = subscripts
        flat = inputs.replace(",", "").replace("...", "")
        output = "".join(sorted(c for c in set(flat) if flat.count(c) == 1))
        if "..." in inputs:
            output = "..." + output
    inputs = inputs.split(",")
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: {len(inputs)} subscripts for {len(operands)} operands.")
    used = set(subscripts)
    spare = [c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in used]
    max_ell = 0
    expanded = []
    for sub, op in zip(inputs, operands):
        if "..." in sub:
            n_ell = _np.ndim(getval(op)) - (len(sub) - 3)
            max_ell = n_ell if n_ell > max_ell else max_ell
            expanded.append((sub, n_ell))
        else:
            expanded.append((sub, 0))
    ell = "".join(spare[:max_ell])
    inputs = [s.replace("...", ell[max_ell - n:]) if n or "..." in s else s for s, n in expanded]
    output = output.replace("...", ell)
    return inputs, output


def _einsum_vjp(argnum, g, ans, args, kwargs):
    subscripts, operands = args[0], args[1:]
    if argnum == 0:
        raise TypeError("einsum: the subscripts string cannot be differentiated.")
    i = argnum - 1
    inputs, output = _parse_einsum(subscripts, operands)
    target = inputs[i]
    if len(set(target)) != len(target):
        raise NotImplementedError(
            f"einsum: derivative for an operand with a repeated index ({target!r}, a diagonal) "
            "is not implemented; take the diagonal with an explicit indexing step first."
        )
    others = [(s, op) for j, (s, op) in enumerate(zip(inputs, operands)) if j != i]
    available = set(output).union(*[set(s) for s, _ in others])
    kept = "".join(c for c in target if c in available)
    spec = ",".join([output] + [s for s, _ in others]) + "->" + kept
    result = einsum(spec, g, *[op for _, op in others])
    target_shape = _shape(operands[i])
    if kept != target:  # indices summed away inside this operand: broadcast back
        shape_kept = [target_shape[target.index(c)] if c in kept else 1 for c in target]
        result = reshape(result, tuple(shape_kept))
        result = broadcast_to(result, target_shape)
    return unbroadcast(result, target_shape)


def _einsum_jvp(argnum, t, ans, args, kwargs):
    operands = list(args[1:])
    operands[argnum - 1] = t
    return einsum(args[0], *operands)


def _einsum_flops(ans, subscripts, *operands):
    inputs, output = _parse_einsum(subscripts, operands)
    sizes = {}
    for sub, op in zip(inputs, operands):
        for c, n in zip(sub, _np.shape(getval(op))):
            sizes[c] = n if n > sizes.get(c, 1) else sizes.get(c, 1)
    return 2 * int(_np.prod(list(sizes.values()))) * (len(operands) - 1 or 1)


def _einsum(subscripts, *operands):
    # Path optimisation pays off only with three or more operands; for two it costs more
    # than it saves.
    return _np.einsum(subscripts, *operands, optimize=len(operands) > 2)


einsum = primitive(_einsum, name="einsum", saves="args",
                   flops=_einsum_flops)
einsum.defvjp_argnum(_einsum_vjp)
einsum.defjvp_argnum(_einsum_jvp)

# ----------------------------------------------------------------------------------
# Shapes: each rule undoes the rearrangement


reshape = primitive(lambda x, shape: _np.reshape(x, shape), name="reshape", saves="shapes", flops=lambda *a: 0)
reshape.defvjp(lambda g, ans, x, shape: reshape(g, _shape(x)))
reshape.defjvp(lambda t, ans, x, shape: reshape(t, _shape(ans)))


def ravel(x):
    return reshape(x, (-1,))


def _transpose(x, axes=None):
    return _np.transpose(x, axes)


def _inverse_axes(axes, ndim):
    if axes is None:
        return None
    return tuple(_np.argsort([a % ndim for a in axes]))


transpose = primitive(_transpose, name="transpose", saves="shapes", flops=lambda *a, **k: 0)
transpose.defvjp(lambda g, ans, x, axes=None:
                 transpose(g, _inverse_axes(axes, _np.ndim(getval(x)))))
transpose.defjvp(lambda t, ans, x, axes=None: transpose(t, axes))

swapaxes = primitive(_np.swapaxes, name="swapaxes", saves="shapes", flops=lambda *a: 0)
swapaxes.defvjp(lambda g, ans, x, a, b: swapaxes(g, a, b))
swapaxes.defjvp(lambda t, ans, x, a, b: swapaxes(t, a, b))


def moveaxis(x, source, destination):
    ndim = _np.ndim(getval(x))
    order = [n for n in range(ndim) if n != source % ndim]
    order.insert(destination % ndim, source % ndim)
    return transpose(x, tuple(order))


def _expand_dims(x, axis):
    # numpy.expand_dims normalises its axis argument at some cost; for the one int axis
    # the rules use, a reshape is the same and several times cheaper.
    if not isinstance(axis, int):
        return _np.expand_dims(x, axis)
    shape = _np.shape(x)
    axis = axis if axis >= 0 else axis + len(shape) + 1
    return _np.reshape(x, shape[:axis] + (1,) + shape[axis:])


expand_dims = primitive(_expand_dims, name="expand_dims", saves="shapes", flops=lambda *a: 0)
expand_dims.defvjp(lambda g, ans, x, axis: reshape(g, _shape(x)))
expand_dims.defjvp(lambda t, ans, x, axis: expand_dims(t, axis))

squeeze = primitive(lambda x, axis=None: _np.squeeze(x, axis=axis), name="squeeze", saves="shapes",
                    flops=lambda *a, **k: 0)
squeeze.defvjp(lambda g, ans, x, axis=None: reshape(g, _shape(x)))
squeeze.defjvp(lambda t, ans, x, axis=None: squeeze(t, axis))

broadcast_to = primitive(_np.broadcast_to, name="broadcast_to", saves="shapes", flops=lambda *a: 0)
broadcast_to.defvjp(lambda g, ans, x, shape: unbroadcast(g, _shape(x)))
broadcast_to.defjvp(lambda t, ans, x, shape: broadcast_to(t, shape))


def atleast_1d(x):
    return reshape(x, (1,)) if _np.ndim(getval(x)) == 0 else x


def atleast_2d(x):
    nd = _np.ndim(getval(x))
    return reshape(x, (1,) * (2 - nd) + _shape(x)) if nd < 2 else x


flip = primitive(lambda x, axis=None: _np.flip(x, axis), name="flip", saves="shapes", flops=lambda *a, **k: 0)
flip.defvjp(lambda g, ans, x, axis=None: flip(g, axis))
flip.defjvp(lambda t, ans, x, axis=None: flip(t, axis))


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


def _pad_slices(x_shape, pad_width):
    """Where x sits inside the padded array, reading pad_width the way numpy.pad does."""
    widths = _np.asarray(pad_width, dtype=int)
    if widths.size == 1:  # pad, (pad,): the same on both sides of every axis
        widths = widths.ravel()[[0, 0]]
    elif widths.size == 2 and widths.shape != (2, 1):  # (before, after), ((before, after),)
        widths = widths.ravel()
    widths = _np.broadcast_to(widths, (len(x_shape), 2))  # ((pad,), ...) per axis, or full
    return tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(widths, x_shape))


def _pad(x, pad_width, mode="constant", constant_values=0.0):
    if mode != "constant":
        raise NotImplementedError(f"pad: mode={mode!r}; only mode='constant' is differentiable here.")
    return _np.pad(x, pad_width, mode="constant", constant_values=constant_values)


pad = primitive(_pad, name="pad", saves="shapes", flops=lambda *a, **k: 0)
pad.defvjp(lambda g, ans, x, pad_width, mode="constant", constant_values=0.0:
           g[_pad_slices(_shape(x), pad_width)])
pad.defjvp(lambda t, ans, x, pad_width, mode="constant", constant_values=0.0:
           pad(t, pad_width))


def _concatenate_args(axis, *arrays):
    return _np.concatenate(arrays, axis=axis)


def _concatenate_vjp(argnum, g, ans, args, kwargs):
    axis, arrays = args[0], args[1:]
    i = argnum - 1
    offsets = _np.cumsum([0] + [_shape(a)[axis] for a in arrays])
    index = [slice(None)] * len(_shape(g))
    index[axis] = slice(int(offsets[i]), int(offsets[i + 1]))
    return g[tuple(index)]


def _concatenate_jvp(argnum, t, ans, args, kwargs):
    axis, arrays = args[0], args[1:]
    parts = [t if j == argnum - 1 else zeros_like_float(a) for j, a in enumerate(arrays)]
    return _concatenate(axis, *parts)


_concatenate = primitive(_concatenate_args, name="concatenate", saves="shapes", flops=lambda *a: 0)
_concatenate.defvjp_argnum(_concatenate_vjp)
_concatenate.defjvp_argnum(_concatenate_jvp)


def zeros_like_float(x):
    return _np.zeros(_shape(x))


def concatenate(arrays, axis=0):
    """Join arrays along an existing axis; each input gets back its slice of the cotangent."""
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    ndim = _np.ndim(getval(arrays[0]))
    return _concatenate(axis % ndim if ndim else axis, *arrays)


def stack(arrays, axis=0):
    """Join arrays along a new axis."""
    arrays = list(arrays)
    ndim = _np.ndim(getval(arrays[0])) + 1
    axis = axis % ndim
    return _concatenate(axis, *[expand_dims(a, axis) for a in arrays])


def hstack(arrays):
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if _np.ndim(getval(arrays[0])) == 1 else 1)


def vstack(arrays):
    return concatenate([atleast_2d(a) for a in arrays], axis=0)


def split(x, indices_or_sections, axis=0):
    n = _shape(x)[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"split: axis of length {n} does not divide into {indices_or_sections}.")
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step))
    else:
        bounds = [0] + list(indices_or_sections) + [n]
    index = [slice(None)] * len(_shape(x))
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index[axis] = slice(lo, hi)
        out.append(x[tuple(index)])
    return out


def tile(x, reps):
    """Repeat x (composed from broadcasting, so it is differentiable)."""
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    shape = _shape(x)
    nd = _builtins.max(len(shape), len(reps))
    shape = (1,) * (nd - len(shape)) + shape
    reps = (1,) * (nd - len(reps)) + reps
    x = reshape(x, tuple(d for s in shape for d in (1, s)))
    x = broadcast_to(x, tuple(d for r, s in zip(reps, shape) for d in (r, s)))
    return reshape(x, tuple(r * s for r, s in zip(reps, shape)))


def repeat(x, repeats, axis=None):
    if axis is None:
        x, axis = ravel(x), 0
    shape = _shape(x)
    axis = axis % len(shape)
    y = expand_dims(x, axis + 1)
    y = broadcast_to(y, shape[:axis + 1] + (repeats,) + shape[axis + 1:])
    return reshape(y, shape[:axis] + (shape[axis] * repeats,) + shape[axis + 1:])

# ----------------------------------------------------------------------------------
# Indexing: x[idx] reads entries; its VJP writes g back into a zero array of x's shape,
# adding where an index repeats (x[[0, 0]] uses x[0] twice).


def _is_basic_index(idx):
    idx = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, _np.integer, slice)) or i is None or i is Ellipsis
               for i in idx)


def _no_repeats(idx):
    """True when writing into x[idx] can use plain assignment (no index used twice)."""
    if _is_basic_index(idx):
        return True
    idx = idx if isinstance(idx, tuple) else (idx,)
    arrays = [i for i in idx if isinstance(i, (list, _np.ndarray))]
    return len(arrays) == 1 and _np.asarray(arrays[0]).dtype == bool


def _untake(g, idx, shape):
    out = _np.zeros(shape, dtype=_np.result_type(g, float))
    if _no_repeats(idx):
        out[idx] = g
    else:
        _np.add.at(out, idx, g)
    return out


untake = primitive(_untake, name="untake", saves="shapes", flops=lambda ans, g, idx, shape: _np.size(g))
untake.defvjp(lambda g, ans, g_in, idx, shape: g[idx])
untake.defjvp(lambda t, ans, g_in, idx, shape: untake(t, idx, shape))


def _getitem(x, idx):
    return x[idx]


def _plain_index(idx):
    if isinstance(idx, Box) or (isinstance(idx, tuple) and any(isinstance(i, Box) for i in idx)):
        raise TypeError("an array index cannot be a traced value; index with integers, "
                        "slices, integer arrays or boolean masks.")
    return idx


getitem = primitive(_getitem, name="getitem", saves="shapes", flops=lambda *a: 0)
getitem.defvjp(lambda g, ans, x, idx: untake(g, idx, _shape(x)))
getitem.defjvp(lambda t, ans, x, idx: t[idx])

def sort(x, axis=-1):
    """A sorted copy: the entries permuted, so the gradient is permuted back (via getitem)."""
    x = asarray(x)
    if axis is None:
        x, axis = ravel(x), 0
    order = _np.argsort(getval(x), axis=axis)
    index = list(_np.indices(_shape(x), sparse=True))
    index[axis] = order
    return x[tuple(index)]

# ----------------------------------------------------------------------------------
# Building an array from traced values


def array(obj, dtype=None, **kwargs):
    """``numpy.array`` that also accepts (nested) lists holding traced values."""
    if _contains_box(obj):
        if dtype is not None and not _np.issubdtype(_np.dtype(dtype), _np.floating):
            raise TypeError(f"array: cannot build a {dtype} array from traced values.")
        return _array_from_nested(obj)
    return _np.array(obj, dtype=dtype, **kwargs)


def _contains_box(obj):
    if obj.__class__ is Box:
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_box(o) for o in obj)
    return False


def _array_from_nested(obj):
    if isinstance(obj, (list, tuple)):
        return stack([_array_from_nested(o) for o in obj])
    if obj.__class__ is Box:
        return obj
    return _np.asarray(obj, dtype=float)


def asarray(obj, dtype=None):
    if obj.__class__ is Box and dtype is None:
        return obj
    return array(obj, dtype=dtype)
