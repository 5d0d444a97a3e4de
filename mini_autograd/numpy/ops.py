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
import operator as _operator

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


def _refuse_complex(v, what):
    """mini_autograd differentiates real values only (no complex conventions).  A complex
    constant mixed into a traced computation (``1j * x``) makes the derivatives complex;
    the rules that every such path goes through (``unbroadcast`` in reverse mode, ``_fit``
    in forward mode, concatenation) refuse it here rather than return a wrong gradient."""
    while v.__class__ is Box:
        v = v._value
    try:
        if v.dtype.kind != "c":
            return
    except AttributeError:
        if v.__class__ is not complex:
            return
    raise TypeError(
        f"{what}: a complex value appeared while differentiating (for example x * 1j, or a "
        "complex constant combined with a traced value). mini_autograd differentiates "
        "real values only: keep real and imaginary parts as separate real arrays.")


def _div(a, b):
    """a / b in a rule, with NumPy's semantics (x/0 = inf or nan, with NumPy's warning) also
    when both are plain Python floats, where Python's ``/`` raises ZeroDivisionError."""
    if a.__class__ is float and b.__class__ is float:
        return _np.divide(a, b)
    return a / b


def _real(t, ans):
    """A JVP's tangent, checked real (and the answer too)."""
    _refuse_complex(t, "forward mode")
    _refuse_complex(ans, "forward mode")
    return t


def _fit(t, ans):
    """A JVP's tangent, real and broadcast to the answer's shape (and the answer real)."""
    _refuse_complex(t, "forward mode")
    _refuse_complex(ans, "forward mode")
    return broadcast_to(t, _shape(ans))


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting (differentiably)."""
    _refuse_complex(g, "reverse mode")
    gshape = _shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra > 0:
        g = _sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, size in enumerate(shape) if size == 1 and _shape(g)[i] != 1)
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
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
        return _reshape(g, (1,) * len(x_shape))
    axes = _as_axes(axis, len(x_shape))
    new_shape = list(_shape(g))
    for a in sorted(axes):
        new_shape.insert(a, 1)
    return _reshape(g, tuple(new_shape))


# ----------------------------------------------------------------------------------
# Elementwise arithmetic

add = primitive(_np.add, name="add", saves="shapes")
add.defvjp(lambda g, ans, x, y: unbroadcast(g, _shape(x)),
           lambda g, ans, x, y: unbroadcast(g, _shape(y)))
add.defjvp(lambda t, ans, x, y: _fit(t, ans),
           lambda t, ans, x, y: _fit(t, ans))

subtract = primitive(_np.subtract, name="subtract", saves="shapes")
subtract.defvjp(lambda g, ans, x, y: unbroadcast(g, _shape(x)),
                lambda g, ans, x, y: unbroadcast(-g, _shape(y)))
subtract.defjvp(lambda t, ans, x, y: _fit(t, ans),
                lambda t, ans, x, y: _fit(-t, ans))

multiply = primitive(_np.multiply, name="multiply", saves="args")
multiply.defvjp(lambda g, ans, x, y: unbroadcast(g * y, _shape(x)),
                lambda g, ans, x, y: unbroadcast(x * g, _shape(y)))
multiply.defjvp(lambda t, ans, x, y: _fit(t * y, ans),
                lambda t, ans, x, y: _fit(x * t, ans))

divide = primitive(_np.divide, name="divide", saves="args")
divide.defvjp(lambda g, ans, x, y: unbroadcast(_div(g, y), _shape(x)),
              lambda g, ans, x, y: unbroadcast(_div(-g * x, y**2), _shape(y)))
divide.defjvp(lambda t, ans, x, y: _fit(_div(t, y), ans),
              lambda t, ans, x, y: _fit(_div(-t * x, y**2), ans))
true_divide = divide


def _power_dx(g, ans, x, y):
    return unbroadcast(g * y * x ** _exponent_less_one(y), _shape(x))


def _exponent_less_one(y):
    # y - 1, but 1 where y == 0: keeps 0 ** -1 out of the rule (the term is 0 anyway).  The
    # condition is y's value: a traced y (x ** y differentiated twice) is no condition.
    return _where(getval(y) != 0, y - 1, 1.0)


def _power_dy(g, ans, x, y):
    return unbroadcast(g * log(_replace_zero(x, 1.0)) * ans, _shape(y))


def _replace_zero(x, val):
    return _where(getval(x) == 0, val, x)


power = primitive(_np.power, name="power")
power.defvjp(_power_dx, _power_dy)
power.defjvp(lambda t, ans, x, y: _fit(t * y * x ** _exponent_less_one(y), ans),
             lambda t, ans, x, y: _fit(t * log(_replace_zero(x, 1.0)) * ans, ans))

negative = primitive(_np.negative, name="negative", saves="shapes")
negative.defvjp(lambda g, ans, x: -g)
negative.defjvp(lambda t, ans, x: -t)


logaddexp = primitive(_np.logaddexp, name="logaddexp", saves="all")
logaddexp.defvjp(lambda g, ans, x, y: unbroadcast(g * exp(x - ans), _shape(x)),
                 lambda g, ans, x, y: unbroadcast(g * exp(y - ans), _shape(y)))
logaddexp.defjvp(lambda t, ans, x, y: _fit(t * exp(x - ans), ans),
                 lambda t, ans, x, y: _fit(t * exp(y - ans), ans))


def _balanced_eq(x, z, y):
    """Share of the gradient that goes to x in max/min(x, y) = z: 1, 0, or 1/2 at a tie."""
    x, z, y = getval(x), getval(z), getval(y)
    return (x == z) / (1.0 + (x == y))


maximum = primitive(_np.maximum, name="maximum")
maximum.defvjp(lambda g, ans, x, y: unbroadcast(g * _balanced_eq(x, ans, y), _shape(x)),
               lambda g, ans, x, y: unbroadcast(g * _balanced_eq(y, ans, x), _shape(y)))
maximum.defjvp(lambda t, ans, x, y: _fit(t * _balanced_eq(x, ans, y), ans),
               lambda t, ans, x, y: _fit(t * _balanced_eq(y, ans, x), ans))

minimum = primitive(_np.minimum, name="minimum")
minimum.defvjp(lambda g, ans, x, y: unbroadcast(g * _balanced_eq(x, ans, y), _shape(x)),
               lambda g, ans, x, y: unbroadcast(g * _balanced_eq(y, ans, x), _shape(y)))
minimum.defjvp(lambda t, ans, x, y: _fit(t * _balanced_eq(x, ans, y), ans),
               lambda t, ans, x, y: _fit(t * _balanced_eq(y, ans, x), ans))

logaddexp2 = primitive(_np.logaddexp2, name="logaddexp2", saves="all")
logaddexp2.defvjp(lambda g, ans, x, y: unbroadcast(g * exp2(x - ans), _shape(x)),
                  lambda g, ans, x, y: unbroadcast(g * exp2(y - ans), _shape(y)))
logaddexp2.defjvp(lambda t, ans, x, y: _fit(t * exp2(x - ans), ans),
                  lambda t, ans, x, y: _fit(t * exp2(y - ans), ans))

# atan2(y, x) is the angle of the point (x, y): d/dy = x / r^2, d/dx = -y / r^2
arctan2 = primitive(_np.arctan2, name="arctan2", saves="args")
arctan2.defvjp(lambda g, ans, y, x: unbroadcast(_div(g * x, x * x + y * y), _shape(y)),
               lambda g, ans, y, x: unbroadcast(_div(-g * y, x * x + y * y), _shape(x)))
arctan2.defjvp(lambda t, ans, y, x: _fit(_div(t * x, x * x + y * y), ans),
               lambda t, ans, y, x: _fit(_div(-t * y, x * x + y * y), ans))

hypot = primitive(_np.hypot, name="hypot", saves="all")
hypot.defvjp(lambda g, ans, x, y: unbroadcast(g * x / ans, _shape(x)),
             lambda g, ans, x, y: unbroadcast(g * y / ans, _shape(y)))
hypot.defjvp(lambda t, ans, x, y: _fit(t * x / ans, ans),
             lambda t, ans, x, y: _fit(t * y / ans, ans))

# x mod y = x - y floor(x / y): slope 1 in x and -floor(x / y) in y (between the jumps)
mod = primitive(_np.mod, name="mod", saves="args")
mod.defvjp(lambda g, ans, x, y: unbroadcast(g, _shape(x)),
           lambda g, ans, x, y: unbroadcast(-g * _np.floor_divide(getval(x), getval(y)), _shape(y)))
mod.defjvp(lambda t, ans, x, y: _fit(t, ans),
           lambda t, ans, x, y: _fit(-t * _np.floor_divide(getval(x), getval(y)), ans))
remainder = mod

fmax = primitive(_np.fmax, name="fmax")
fmax.vjps, fmax.jvps = maximum.vjps, maximum.jvps
fmin = primitive(_np.fmin, name="fmin")
fmin.vjps, fmin.jvps = minimum.vjps, minimum.jvps

# ----------------------------------------------------------------------------------
# Elementwise functions of one argument: f(x) with f'(x) times g (or t)


def _unary(fun, name, vjp, jvp, saves="args"):
    """A unary elementwise primitive with its two rules."""
    return primitive(fun, name=name, saves=saves).defvjp(vjp).defjvp(jvp)


# Each rule is f'(x) times g (reverse) or times t (forward).
exp = _unary(_np.exp, "exp", lambda g, ans, x: g * ans, lambda t, ans, x: t * ans, saves="ans")
expm1 = _unary(_np.expm1, "expm1",
               lambda g, ans, x: g * (ans + 1.0), lambda t, ans, x: t * (ans + 1.0), saves="ans")
log = _unary(_np.log, "log", lambda g, ans, x: _div(g, x), lambda t, ans, x: _div(t, x))
log1p = _unary(_np.log1p, "log1p", lambda g, ans, x: _div(g, x + 1.0),
               lambda t, ans, x: _div(t, x + 1.0))
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
arctanh = _unary(_np.arctanh, "arctanh", lambda g, ans, x: _div(g, 1.0 - x * x),
                 lambda t, ans, x: _div(t, 1.0 - x * x))
arcsinh = _unary(_np.arcsinh, "arcsinh", lambda g, ans, x: g / sqrt(x * x + 1.0),
                 lambda t, ans, x: t / sqrt(x * x + 1.0))
# |x| has derivative sign(x); at 0 we pick 0, as autograd does.
absolute = _unary(_np.absolute, "absolute", lambda g, ans, x: g * _np.sign(getval(x)),
                  lambda t, ans, x: t * _np.sign(getval(x)))
abs = absolute  # noqa: A001  (mirrors numpy's alias)
fabs = absolute

arccosh = _unary(_np.arccosh, "arccosh", lambda g, ans, x: g / sqrt(x * x - 1.0),
                 lambda t, ans, x: t / sqrt(x * x - 1.0))
exp2 = _unary(_np.exp2, "exp2", lambda g, ans, x: g * ans * _np.log(2.0),
              lambda t, ans, x: t * ans * _np.log(2.0), saves="ans")
cbrt = _unary(_np.cbrt, "cbrt", lambda g, ans, x: g / (3.0 * ans * ans),
              lambda t, ans, x: t / (3.0 * ans * ans), saves="ans")
deg2rad = _unary(_np.deg2rad, "deg2rad", lambda g, ans, x: g * (_np.pi / 180.0),
                 lambda t, ans, x: t * (_np.pi / 180.0), saves="shapes")
rad2deg = _unary(_np.rad2deg, "rad2deg", lambda g, ans, x: g * (180.0 / _np.pi),
                 lambda t, ans, x: t * (180.0 / _np.pi), saves="shapes")
radians, degrees = deg2rad, rad2deg


def _sinc_derivative(x):
    # sinc(x) = sin(pi x)/(pi x): derivative (cos(pi x) - sinc(x)) / x, and 0 at x = 0
    safe = _replace_zero(x, 1.0)
    return _where(getval(x) == 0, 0.0, (cos(_np.pi * safe) - sinc(safe)) / safe)


sinc = _unary(_np.sinc, "sinc", lambda g, ans, x: g * _sinc_derivative(x),
              lambda t, ans, x: t * _sinc_derivative(x))
# nan_to_num passes finite entries through: derivative 1 there, 0 where x was nan or +-inf
nan_to_num = _unary(lambda x, copy=True, nan=0.0, posinf=None, neginf=None:
                    _np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf),
                    "nan_to_num", lambda g, ans, x, **kw: _where(_np.isfinite(getval(x)), g, 0.0),
                    lambda t, ans, x, **kw: _where(_np.isfinite(getval(x)), t, 0.0))


def _real_only(name):
    def fun(x):
        if _np.iscomplexobj(getval(x)):
            raise TypeError(f"{name}: mini_autograd differentiates real values only, and this "
                            "value is complex.")
        return x if name != "imag" else zeros_like_float(x)

    fun.__name__ = name
    return fun


# On real values: real, conj and real_if_close are the identity, imag is 0.
real, conj, conjugate, real_if_close, imag = (_real_only(n) for n in
                                              ("real", "conj", "conjugate", "real_if_close",
                                               "imag"))


def angle(x, deg=False):
    """The angle of a real number: 0 or pi (a constant; complex values are refused)."""
    _real_only("angle")(x)
    return _np.angle(getval(x), deg=deg)


def _astype(x, dtype):
    return _np.asarray(x).astype(dtype)


_astype_prim = primitive(_astype, name="astype", saves="args", flops=lambda *a: 0)
_astype_prim.defvjp(lambda g, ans, x, dtype: astype(g, _np.result_type(getval(x))))
_astype_prim.defjvp(lambda t, ans, x, dtype: astype(t, dtype))


def astype(x, dtype, copy=True):
    """Change the floating precision.  A cast to an integer, bool or complex dtype is refused
    on a traced value (its derivative would be zero or complex)."""
    if x.__class__ is Box and not _np.issubdtype(_np.dtype(dtype), _np.floating):
        raise TypeError(f"astype({_np.dtype(dtype)}) of a traced value: the result would not be "
                        "differentiable. Use a floating dtype, or stop_gradient(x) for a constant.")
    return _astype_prim(x, dtype) if x.__class__ is Box else _np.asarray(x).astype(dtype)




def _clip_mask(ans, a_min, a_max):
    ans = getval(ans)
    inside = _np.ones(_np.shape(ans), dtype=bool)
    if a_min is not None:
        inside &= ans != getval(a_min)
    if a_max is not None:
        inside &= ans != getval(a_max)
    return inside


_clip = primitive(lambda x, a_min, a_max: _np.clip(x, a_min, a_max), name="clip")
_clip.defvjp(lambda g, ans, x, a_min, a_max: g * _clip_mask(ans, a_min, a_max))
_clip.defjvp(lambda t, ans, x, a_min, a_max: t * _clip_mask(ans, a_min, a_max))


def clip(x, a_min=None, a_max=None, out=None, *, min=None, max=None):  # noqa: A002
    """numpy.clip: slope 1 inside the bounds, 0 where clipped (the bounds are constants)."""
    _refuse("clip", out)
    return _clip(x, a_min if min is None else min, a_max if max is None else max)

_where = primitive(_np.where, name="where", saves="shapes")
_where.defvjp(None,
              lambda g, ans, c, x, y: unbroadcast(_where(c, g, 0.0), _shape(x)),
              lambda g, ans, c, x, y: unbroadcast(_where(c, 0.0, g), _shape(y)))
_where.defjvp(None,
              lambda t, ans, c, x, y: _where(c, _fit(t, ans), 0.0),
              lambda t, ans, c, x, y: _where(c, 0.0, _fit(t, ans)))


def where(condition, x=None, y=None):
    """``numpy.where(c, x, y)``.  The condition is a constant even when it was computed from
    a traced value (``where(x > 0, x, 0)``): it only selects, and a small change of x does
    not change which entries are selected.  ``where(c)`` alone gives indices (constants)."""
    if x is None and y is None:
        return _np.where(getval(condition))
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither.")
    return _where(getval(condition), x, y)


# ----------------------------------------------------------------------------------
# Reductions.  The public functions check NumPy's optional arguments at the call: those
# with a clear meaning for a derivative are supported by composition (``initial``,
# ``where``, a floating ``dtype``), the rest are refused there with a clear message, not
# passed on to a rule that cannot read them.


def _sum_flops(ans, x, *args, **kwargs):
    return _np.size(getval(x))


def _axis(axis, name="axis"):
    """``axis`` as NumPy accepts it (an integer of any kind, or a sequence of them) -> int/tuple."""
    if axis is None or axis.__class__ is int:
        return axis
    if isinstance(axis, (list, tuple)):
        return tuple(_operator.index(a) for a in axis)
    try:
        return _operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer or a tuple of integers, not "
                        f"{axis!r}.") from None


def _float_dtype(fun, dtype):
    if dtype is not None and not _np.issubdtype(_np.dtype(dtype), _np.floating):
        raise TypeError(f"{fun}: dtype={dtype!r} would make the result non-differentiable; "
                        "only floating dtypes (or None) are supported.")


def _refuse(fun, out=None, **unsupported):
    if out is not None:
        raise TypeError(f"{fun}: out= is not supported (it writes in place); use the result.")
    for key, value in unsupported.items():
        if value is not None:
            raise TypeError(f"{fun}: the argument {key}= is not supported by mini_autograd.")


def _prepare(x):
    """Lists and tuples of (possibly traced) values become one array, as NumPy does."""
    return array(x) if isinstance(x, (list, tuple)) else x


_sum = primitive(_np.sum, name="sum", saves="shapes", flops=_sum_flops)
_sum.defvjp(lambda g, ans, x, axis=None, keepdims=False:
            broadcast_to(_restore_reduced(g, _shape(x), axis, keepdims), _shape(x)))
_sum.defjvp(lambda t, ans, x, axis=None, keepdims=False: _sum(t, axis=axis, keepdims=keepdims))


def sum(x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """``numpy.sum``; ``where`` masks entries out, ``initial`` is added (both constants)."""
    _refuse("sum", out)
    _float_dtype("sum", dtype)
    x = _prepare(x)
    if where is not None:
        x = _where(_constant_mask("sum", where), x, 0.0)
    total = _sum(x, axis=_axis(axis), keepdims=keepdims)
    total = total if initial is None else total + initial
    return total if dtype is None else astype(total, dtype)


def _constant_mask(fun, where):
    if _contains_box(where):
        raise TypeError(f"{fun}: where= must be a constant boolean mask, not a traced value.")
    return _np.asarray(where, dtype=bool)


def _count(x_shape, axis):
    axes = _as_axes(axis, len(x_shape))
    return int(_np.prod([x_shape[a] for a in axes])) if axes else 1


_mean = primitive(_np.mean, name="mean", saves="shapes", flops=_sum_flops)
_mean.defvjp(lambda g, ans, x, axis=None, keepdims=False:
             broadcast_to(_restore_reduced(g, _shape(x), axis, keepdims), _shape(x))
             / _count(_shape(x), axis))
_mean.defjvp(lambda t, ans, x, axis=None, keepdims=False: _mean(t, axis=axis, keepdims=keepdims))


def mean(x, axis=None, dtype=None, out=None, keepdims=False, where=None):
    _refuse("mean", out)
    _float_dtype("mean", dtype)
    x, axis = _prepare(x), _axis(axis)
    if where is None:
        average = _mean(x, axis=axis, keepdims=keepdims)
    else:
        mask = _np.broadcast_to(_constant_mask("mean", where), _shape(x))
        average = (_sum(_where(mask, x, 0.0), axis=axis, keepdims=keepdims)
                   / _np.sum(mask, axis=axis, keepdims=keepdims))
    return average if dtype is None else astype(average, dtype)


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
    return _sum(t * _chooser_share(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)


_max = primitive(_np.max, name="max", flops=_sum_flops)
_max.defvjp(_chooser_vjp)
_max.defjvp(_chooser_jvp)
_min = primitive(_np.min, name="min", flops=_sum_flops)
_min.defvjp(_chooser_vjp)
_min.defjvp(_chooser_jvp)


def max(x, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """``numpy.max``; ``initial`` is a constant lower bound on the result."""
    _refuse("max", out, where=where)
    biggest = _max(_prepare(x), axis=_axis(axis), keepdims=keepdims)
    return biggest if initial is None else maximum(biggest, initial)


def min(x, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """``numpy.min``; ``initial`` is a constant upper bound on the result."""
    _refuse("min", out, where=where)
    smallest = _min(_prepare(x), axis=_axis(axis), keepdims=keepdims)
    return smallest if initial is None else minimum(smallest, initial)


amax, amin = max, min


def prod(x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product of entries.  Its derivative divides by each entry, so an input that holds a
    zero is refused (the other factors' product would be needed instead)."""
    _refuse("prod", out, initial=initial, where=where)
    _float_dtype("prod", dtype)
    x = _prepare(x)
    if x.__class__ is Box and _np.any(getval(x) == 0):  # constants: plain numpy.prod
        raise NotImplementedError(
            "prod: the derivative at an input containing zeros is not implemented; "
            "multiply the factors explicitly instead."
        )
    return _prod(x, axis=_axis(axis), keepdims=keepdims)


_prod = primitive(_np.prod, name="prod", flops=_sum_flops)
_prod.defvjp(lambda g, ans, x, axis=None, keepdims=False:
             broadcast_to(_restore_reduced(g * ans, _shape(x), axis, keepdims), _shape(x)) / x)
_prod.defjvp(lambda t, ans, x, axis=None, keepdims=False:
             _sum(t * _restore_reduced(ans, _shape(x), axis, keepdims) / x, axis=axis,
                  keepdims=keepdims))


def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    """Variance, composed from mean: its derivative follows automatically."""
    _refuse("var", out, where=where)
    _float_dtype("var", dtype)
    x, axis = _prepare(x), _axis(axis)
    centred = x - _mean(x, axis=axis, keepdims=True)
    n = _count(_shape(x), axis)
    return _sum(centred * centred, axis=axis, keepdims=keepdims) / (n - ddof)


def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    """Square root of var.  Over a single entry the spread is 0 whatever x is: derivative 0
    there (not sqrt's 1/0), as in autograd."""
    x = _prepare(x)
    variance = var(x, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where)
    if _count(_shape(x), _axis(axis)) <= 1:
        return variance * 0.0
    return sqrt(variance)


def cumsum(x, axis=None, dtype=None, out=None):
    _refuse("cumsum", out)
    _float_dtype("cumsum", dtype)
    if axis is None:
        return _cumsum(ravel(x), 0)
    return _cumsum(x, _axis(axis) % _np.ndim(getval(x)))


_cumsum = primitive(lambda x, axis: _np.cumsum(x, axis=axis), name="cumsum", saves="shapes")
_cumsum.defvjp(lambda g, ans, x, axis: flip(_cumsum(flip(g, axis), axis), axis))
_cumsum.defjvp(lambda t, ans, x, axis: _cumsum(t, axis))


def cumprod(x, axis=None, dtype=None, out=None):
    """Running products.  d ans_i / d x_j = ans_i / x_j for j <= i, so, as for ``prod``,
    an input holding a zero is refused."""
    _refuse("cumprod", out)
    _float_dtype("cumprod", dtype)
    if axis is None:
        x, axis = ravel(x), 0
    if x.__class__ is Box and _np.any(getval(x) == 0):
        raise NotImplementedError("cumprod: the derivative at an input containing zeros is "
                                  "not implemented; multiply the factors explicitly instead.")
    return _cumprod(x, _axis(axis) % _np.ndim(getval(x)))


_cumprod = primitive(lambda x, axis: _np.cumprod(x, axis=axis), name="cumprod")
_cumprod.defvjp(lambda g, ans, x, axis: flip(_cumsum(flip(g * ans, axis), axis), axis) / x)
_cumprod.defjvp(lambda t, ans, x, axis: ans * _cumsum(t / x, axis))

# ----------------------------------------------------------------------------------
# Linear algebra products


def _swap_last(x):
    return swapaxes(x, -1, -2)


def _matmul_vjp_x(g, ans, x, y):
    xd, yd = _np.ndim(getval(x)), _np.ndim(getval(y))
    if xd == 1 and yd == 1:
        return unbroadcast(g * y, _shape(x))
    if xd == 1:  # (k,) @ (..., k, m) -> (..., m): dx[k] = sum g[..., m] y[..., k, m]
        return unbroadcast(matmul(expand_dims(g, -2), _swap_last(y))[..., 0, :], _shape(x))
    if yd == 1:  # (..., n, k) @ (k,) -> (..., n)
        return unbroadcast(expand_dims(g, -1) * y, _shape(x))
    return unbroadcast(matmul(g, _swap_last(y)), _shape(x))


def _matmul_vjp_y(g, ans, x, y):
    xd, yd = _np.ndim(getval(x)), _np.ndim(getval(y))
    if xd == 1 and yd == 1:
        return unbroadcast(g * x, _shape(y))
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
matmul.defjvp(lambda t, ans, x, y: _real(matmul(t, y), ans),
              lambda t, ans, x, y: _real(matmul(x, t), ans))


def dot(x, y):
    """``numpy.dot``: matmul for up to 2-D, else the last axis of x against the
    second-to-last of y (the last if y is 1-D)."""
    xd, yd = len(_shape(x)), len(_shape(y))
    if xd == 0 or yd == 0:
        return multiply(x, y)
    if xd <= 2 and yd <= 2:
        return matmul(x, y)
    return tensordot(x, y, axes=([-1], [-2 if yd > 1 else 0]))


def inner(x, y):
    """Contract the last axis of x with the last axis of y (numpy.inner)."""
    if _np.ndim(getval(x)) == 0 or _np.ndim(getval(y)) == 0:
        return multiply(x, y)
    return tensordot(x, y, axes=([-1], [-1]))


def vdot(x, y):
    return sum(ravel(x) * ravel(y))


def outer(x, y):
    return multiply(_reshape(x, (-1, 1)), _reshape(y, (1, -1)))


def tensordot(a, b, axes=2):
    a_dims, b_dims = _np.ndim(getval(a)), _np.ndim(getval(b))
    letters = "abcdefghijklmnopqrstuvwxyz"
    if _np.ndim(axes) == 0:
        axes = _operator.index(axes)
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
    result = _einsum_prim(spec, g, *[op for _, op in others])
    target_shape = _shape(operands[i])
    if kept != target:  # indices summed away inside this operand: broadcast back
        shape_kept = [target_shape[target.index(c)] if c in kept else 1 for c in target]
        result = _reshape(result, tuple(shape_kept))
        result = broadcast_to(result, target_shape)
    return unbroadcast(result, target_shape)


def _einsum_jvp(argnum, t, ans, args, kwargs):
    operands = list(args[1:])
    operands[argnum - 1] = t
    return _real(_einsum_prim(args[0], *operands), ans)


def _interleaved_to_subscripts(args):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ('ab,bc->ac', (a, b))."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def word(sublist):
        return "".join("..." if i is Ellipsis else letters[i] for i in sublist)

    operands, inputs = args[0::2], args[1::2]
    output = ""
    if len(operands) > len(inputs):  # a trailing output sublist
        operands, output = operands[:-1], "->" + word(operands[-1])
    return ",".join(word(sub) for sub in inputs) + output, tuple(operands)


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


_einsum_prim = primitive(_einsum, name="einsum", saves="args", flops=_einsum_flops)
_einsum_prim.defvjp_argnum(_einsum_vjp)
_einsum_prim.defjvp_argnum(_einsum_jvp)


def einsum(subscripts, *operands, optimize=False, **unsupported):
    """``numpy.einsum`` with a subscripts string.  ``optimize`` only changes the order of
    the work, so it is accepted and left to the engine; out=/dtype=/... are refused."""
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved_to_subscripts((subscripts,) + operands)
    if unsupported:
        raise TypeError(f"einsum: arguments {sorted(unsupported)} are not supported by "
                        "mini_autograd.")
    return _einsum_prim(subscripts, *operands)

# ----------------------------------------------------------------------------------
# Shapes: each rule undoes the rearrangement


_reshape = primitive(lambda x, shape: _np.reshape(x, shape), name="reshape", saves="shapes",
                     flops=lambda *a: 0)
_reshape.defvjp(lambda g, ans, x, shape: _reshape(g, _shape(x)))
_reshape.defjvp(lambda t, ans, x, shape: _reshape(t, _shape(ans)))


def reshape(x, shape=None, order="C", *, newshape=None, copy=None):
    """``numpy.reshape``.  order='F' (fill the first axis fastest) is a C-order reshape of
    the reversed axes, so it is composed from transposes."""
    shape = newshape if shape is None else shape
    shape = ((_operator.index(shape),) if _np.ndim(shape) == 0
             else tuple(map(_operator.index, shape)))
    if order == "C":
        return _reshape(x, shape)
    if order == "F":
        return transpose(_reshape(transpose(x), shape[::-1]))
    raise ValueError(f"reshape: order={order!r}; use 'C' or 'F'.")


def ravel(x):
    return _reshape(x, (-1,))


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

_swapaxes = primitive(_np.swapaxes, name="swapaxes", saves="shapes", flops=lambda *a: 0)
_swapaxes.defvjp(lambda g, ans, x, a, b: _swapaxes(g, a, b))
_swapaxes.defjvp(lambda t, ans, x, a, b: _swapaxes(t, a, b))


def swapaxes(x, axis1, axis2):
    return _swapaxes(x, _axis(axis1), _axis(axis2))


def moveaxis(x, source, destination):
    """Move axes (an int or a sequence each) to new positions; the others keep their order."""
    ndim = _np.ndim(getval(x))
    source = [a % ndim for a in _np.atleast_1d(_axis(source))]
    destination = [a % ndim for a in _np.atleast_1d(_axis(destination))]
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: {len(source)} source axes but {len(destination)} "
                         "destinations.")
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(x, tuple(int(a) for a in order))


def rollaxis(x, axis, start=0):
    ndim = _np.ndim(getval(x))
    axis, start = _axis(axis) % ndim, _axis(start)
    start = start + ndim if start < 0 else start
    return moveaxis(x, axis, start - 1 if axis < start else start)


def _expand_dims(x, axis):
    # numpy.expand_dims normalises its axis argument at some cost; for the one int axis
    # the rules use, a reshape is the same and several times cheaper.
    if not isinstance(axis, int):
        return _np.expand_dims(x, axis)
    shape = _np.shape(x)
    axis = axis if axis >= 0 else axis + len(shape) + 1
    return _np.reshape(x, shape[:axis] + (1,) + shape[axis:])


expand_dims = primitive(_expand_dims, name="expand_dims", saves="shapes", flops=lambda *a: 0)
expand_dims.defvjp(lambda g, ans, x, axis: _reshape(g, _shape(x)))
expand_dims.defjvp(lambda t, ans, x, axis: expand_dims(t, axis))

squeeze = primitive(lambda x, axis=None: _np.squeeze(x, axis=axis), name="squeeze", saves="shapes",
                    flops=lambda *a, **k: 0)
squeeze.defvjp(lambda g, ans, x, axis=None: _reshape(g, _shape(x)))
squeeze.defjvp(lambda t, ans, x, axis=None: squeeze(t, axis))

broadcast_to = primitive(_np.broadcast_to, name="broadcast_to", saves="shapes", flops=lambda *a: 0)
broadcast_to.defvjp(lambda g, ans, x, shape: unbroadcast(g, _shape(x)))
broadcast_to.defjvp(lambda t, ans, x, shape: broadcast_to(t, shape))


def atleast_1d(x):
    return _reshape(x, (1,)) if _np.ndim(getval(x)) == 0 else x


def atleast_2d(x):
    nd = _np.ndim(getval(x))
    return _reshape(x, (1,) * (2 - nd) + _shape(x)) if nd < 2 else x


flip = primitive(lambda x, axis=None: _np.flip(x, axis), name="flip", saves="shapes",
                 flops=lambda *a, **k: 0)
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
        raise NotImplementedError(f"pad: mode={mode!r}; only mode='constant' is "
                                  "differentiable here.")
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
    _refuse_complex(g, "concatenate")
    return g[tuple(index)]


def _concatenate_jvp(argnum, t, ans, args, kwargs):
    axis, arrays = args[0], args[1:]
    parts = [t if j == argnum - 1 else zeros_like_float(a) for j, a in enumerate(arrays)]
    return _real(_concatenate(axis, *parts), ans)


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


def array_split(x, indices_or_sections, axis=0):
    """Pieces along ``axis``: n pieces (the first ones one longer when n does not divide the
    length), or pieces between the given indices.  Each piece is a slice (getitem)."""
    x, axis = asarray(x), _axis(axis)
    n = _shape(x)[axis]
    if _np.ndim(indices_or_sections) == 0:
        sections = _operator.index(indices_or_sections)
        sizes = [n // sections + 1] * (n % sections) + [n // sections] * (sections - n % sections)
        bounds = [0] + [int(b) for b in _np.cumsum(sizes)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    index = [slice(None)] * len(_shape(x))
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index[axis] = slice(lo, hi)
        out.append(x[tuple(index)])
    return out


def split(x, indices_or_sections, axis=0):
    n = _shape(x)[axis]
    if _np.ndim(indices_or_sections) == 0 and n % indices_or_sections:
        raise ValueError(f"split: axis of length {n} does not divide into {indices_or_sections} "
                         "equal pieces; use array_split.")
    return array_split(x, indices_or_sections, axis)


def hsplit(x, indices_or_sections):
    return split(x, indices_or_sections, 1 if _np.ndim(getval(x)) > 1 else 0)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, 0)


def dsplit(x, indices_or_sections):
    return split(x, indices_or_sections, 2)


def tile(x, reps):
    """Repeat x (composed from broadcasting, so it is differentiable)."""
    reps = (_operator.index(reps),) if _np.ndim(reps) == 0 else tuple(map(_operator.index, reps))
    shape = _shape(x)
    nd = _builtins.max(len(shape), len(reps))
    shape = (1,) * (nd - len(shape)) + shape
    reps = (1,) * (nd - len(reps)) + reps
    x = _reshape(x, tuple(d for s in shape for d in (1, s)))
    x = broadcast_to(x, tuple(d for r, s in zip(reps, shape) for d in (r, s)))
    return _reshape(x, tuple(r * s for r, s in zip(reps, shape)))


def repeat(x, repeats, axis=None):
    """Repeat entries; an int repeats each the same number of times (by broadcasting), a
    list gives each entry its own count (gathered by take)."""
    if axis is None:
        x, axis = ravel(x), 0
    shape = _shape(x)
    axis = _axis(axis) % len(shape)
    if _np.ndim(repeats) != 0:
        return take(x, _np.repeat(_np.arange(shape[axis]), repeats), axis=axis)
    repeats = _operator.index(repeats)
    y = expand_dims(x, axis + 1)
    y = broadcast_to(y, shape[:axis + 1] + (repeats,) + shape[axis + 1:])
    return _reshape(y, shape[:axis] + (shape[axis] * repeats,) + shape[axis + 1:])

# ----------------------------------------------------------------------------------
# More rearrangements, each composed from the primitives above (getitem, untake,
# transpose, flip, reshape, concatenate, where), so their derivatives need no new rule.


def atleast_3d(x):
    nd = _np.ndim(getval(x))
    if nd == 0:
        return _reshape(x, (1, 1, 1))
    if nd == 1:
        return _reshape(x, (1,) + _shape(x) + (1,))
    return _reshape(x, _shape(x) + (1,)) if nd == 2 else x


def take(x, indices, axis=None):
    """Entries at integer ``indices`` along ``axis`` (of the flattened x if None)."""
    indices = _np.asarray(_plain_index(indices))
    if axis is None:
        return ravel(x)[indices]
    axis = _axis(axis) % _np.ndim(getval(x))
    return x[(slice(None),) * axis + (indices,)]


def take_along_axis(x, indices, axis):
    """x[..., indices, ...] entry by entry: one index array per axis, broadcast together."""
    indices = _np.asarray(_plain_index(indices))
    if axis is None:
        return ravel(x)[indices]
    ndim = _np.ndim(getval(x))
    axis = _axis(axis) % ndim
    grid = list(_np.ogrid[tuple(slice(n) for n in _np.shape(indices))])
    grid[axis] = indices
    return x[tuple(grid)]


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal ``x[i, i + offset]`` of the two axes, as numpy: moved to the last axis."""
    x = moveaxis(x, (_axis(axis1), _axis(axis2)), (-2, -1))
    rows, cols = _shape(x)[-2:]
    start_row, start_col = (0, offset) if offset >= 0 else (-offset, 0)
    length = _builtins.max(0, _builtins.min(rows - start_row, cols - start_col))
    i = _np.arange(length)
    return x[..., start_row + i, start_col + i]


def trace(x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _refuse("trace", out)
    _float_dtype("trace", dtype)
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)


def diag(v, k=0):
    """A vector's square matrix with v on diagonal k, or a matrix's diagonal k."""
    nd = _np.ndim(getval(v))
    if nd == 2:
        return diagonal(v, k)
    if nd != 1:
        raise ValueError(f"diag: the input must be 1-D or 2-D, not of shape {_shape(v)}.")
    n = _shape(v)[0] + (k if k >= 0 else -k)
    i = _np.arange(_shape(v)[0])
    return untake(v, (i, i + k) if k >= 0 else (i - k, i), (n, n))


def make_diagonal(x, offset=0, axis1=-1, axis2=-2):
    """Square matrices (on axes -2, -1) with the last axis of x on their diagonal."""
    if offset != 0 or {axis1 % (_np.ndim(getval(x)) + 1), axis2 % (_np.ndim(getval(x)) + 1)} \
            != {_np.ndim(getval(x)) - 1, _np.ndim(getval(x))}:
        raise NotImplementedError("make_diagonal: only offset=0 and the last two axes.")
    n = _shape(x)[-1]
    return expand_dims(x, -1) * _np.eye(n)


def _triangle_mask(x, k, lower):
    shape = _shape(x)
    rows, cols = shape[-2:] if len(shape) >= 2 else (shape[-1], shape[-1])
    below = _np.tri(rows, cols, k=k, dtype=bool)
    return below if lower else ~_np.tri(rows, cols, k=k - 1, dtype=bool)


def tril(x, k=0):
    return _where(_triangle_mask(x, k, lower=True), x, 0.0)


def triu(x, k=0):
    return _where(_triangle_mask(x, k, lower=False), x, 0.0)


def kron(a, b):
    """Kronecker product: a's entries times b, as blocks; interleave the axes and multiply."""
    nd = _builtins.max(_np.ndim(getval(a)), _np.ndim(getval(b)))
    sa = (1,) * (nd - _np.ndim(getval(a))) + _shape(a)
    sb = (1,) * (nd - _np.ndim(getval(b))) + _shape(b)
    blocks = (_reshape(a, tuple(d for n in sa for d in (n, 1)))
              * _reshape(b, tuple(d for n in sb for d in (1, n))))
    return _reshape(blocks, tuple(p * q for p, q in zip(sa, sb)))


def diff(x, n=1, axis=-1, prepend=None, append=None):
    """n-th forward difference along axis: x[1:] - x[:-1], n times."""
    axis = _axis(axis) % _np.ndim(getval(x))
    pieces = [p for p in (prepend, x, append) if p is not None]
    if len(pieces) > 1:
        shape = list(_shape(x))
        shape[axis] = 1
        pieces = [p if _np.ndim(getval(p)) else broadcast_to(p, tuple(shape)) for p in pieces]
        x = concatenate(pieces, axis=axis)
    upper = (slice(None),) * axis + (slice(1, None),)
    lower = (slice(None),) * axis + (slice(None, -1),)
    for _ in range(n):
        x = x[upper] - x[lower]
    return x


def roll(x, shift, axis=None):
    """Shift entries cyclically: a gather with the index (i - shift) mod n."""
    if axis is None:
        return _reshape(roll(ravel(x), shift, 0), _shape(x))
    shifts, axes = _np.broadcast_arrays(_np.atleast_1d(shift), _np.atleast_1d(_axis(axis)))
    for s_, a in zip(shifts, axes):
        n = _shape(x)[a]
        x = take(x, (_np.arange(n) - s_) % n, axis=int(a))
    return x


def rot90(x, k=1, axes=(0, 1)):
    """Rotate by 90 degrees k times in the plane of ``axes`` (flips and a transpose)."""
    a0, a1 = (_axis(a) % _np.ndim(getval(x)) for a in axes)
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, a0), a1)
    order = list(range(_np.ndim(getval(x))))
    order[a0], order[a1] = order[a1], order[a0]
    if k == 1:
        return transpose(flip(x, a1), tuple(order))
    return flip(transpose(x, tuple(order)), a1)


def append(x, values, axis=None):
    x, values = asarray(x), asarray(values)
    if axis is None:
        return concatenate([ravel(x), ravel(values)])
    return concatenate([x, values], axis=axis)


def column_stack(arrays):
    return concatenate([a if _np.ndim(getval(a)) >= 2 else _reshape(a, (-1, 1))
                        for a in arrays], axis=1)


def row_stack(arrays):
    return vstack(arrays)


def dstack(arrays):
    return concatenate([atleast_3d(a) for a in arrays], axis=2)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the last axis."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if _shape(a)[-1] != 3 or _shape(b)[-1] != 3:
        raise NotImplementedError(f"cross: only 3-vectors are supported, not shapes "
                                  f"{_shape(a)} and {_shape(b)}.")
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    c = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(c, -1, axisc)


def select(condlist, choicelist, default=0.0):
    """The first choice whose condition holds, entry by entry (conditions are constants)."""
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = where(cond, choice, out)
    return out


def partition(x, kth, axis=-1):
    """Entries rearranged so that position kth holds its sorted value: a permutation."""
    x = asarray(x)
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, _np.argpartition(getval(x), kth, axis=axis), axis)


def gradient(f, *spacing, axis=None, edge_order=1):
    """numpy.gradient with a uniform spacing (one number, default 1) and edge_order=1:
    central differences inside, one-sided at the two ends; a list of arrays for several axes."""
    if edge_order != 1 or len(spacing) > 1 or spacing and _np.ndim(spacing[0]) != 0:
        raise NotImplementedError("gradient: only one scalar spacing and edge_order=1 are "
                                  "supported; compose other stencils with diff or slicing.")
    h = spacing[0] if spacing else 1.0
    ndim = _np.ndim(getval(f))
    axes = range(ndim) if axis is None else _np.atleast_1d(_axis(axis)) % ndim
    out = []
    for a in axes:
        a = int(a)

        def part(lo, hi):
            return f[(slice(None),) * a + (slice(lo, hi),)]

        inner = (part(2, None) - part(None, -2)) / (2.0 * h)
        first, last = (part(1, 2) - part(0, 1)) / h, (part(-1, None) - part(-2, -1)) / h
        out.append(concatenate([first, inner, last], axis=a))
    return out[0] if len(out) == 1 else tuple(out)


class _Concatenator:
    """``np.r_[a, b, 1:3]`` and ``np.c_[...]`` for traced values, by concatenate."""

    def __init__(self, axis, columns):
        self.axis, self.columns = axis, columns

    def __getitem__(self, items):
        items = items if isinstance(items, tuple) else (items,)
        if not any(_contains_box(i) for i in items):
            return (_np.c_ if self.columns else _np.r_)[items]
        parts = []
        for item in items:
            if isinstance(item, slice):
                item = _np.r_[item]
            if isinstance(item, str):
                raise NotImplementedError("r_/c_: string directives are not supported.")
            item = asarray(item)
            if self.columns:
                item = _reshape(item, (-1, 1)) if _np.ndim(getval(item)) < 2 else item
            else:
                item = atleast_1d(item)
            parts.append(item)
        return concatenate(parts, axis=self.axis)


r_ = _Concatenator(0, False)
c_ = _Concatenator(-1, True)

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


untake = primitive(_untake, name="untake", saves="shapes",
                   flops=lambda ans, g, idx, shape: _np.size(g))
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

# ----------------------------------------------------------------------------------
# Constructors whose value depends on traced arguments.  linspace, logspace, full and
# full_like are smooth in their start/stop/fill and are composed from differentiable
# ops; arange's *length* jumps with its arguments, so a traced one is refused.


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if not (_contains_box(start) or _contains_box(stop)):
        return _np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype,
                            axis=axis)
    _float_dtype("linspace", dtype)
    start, stop = asarray(start), asarray(stop)
    div = (num - 1) if endpoint else num
    fraction = _np.arange(num) / div if div > 0 else _np.zeros(num)
    if num == 1:
        fraction = _np.zeros(1)
    nd = _builtins.max(_np.ndim(getval(start)), _np.ndim(getval(stop)))
    fraction = fraction.reshape((num,) + (1,) * nd)
    step = (stop - start) / div if div > 0 else (stop - start) * _np.nan
    out = start + (stop - start) * fraction
    if axis != 0:
        out = moveaxis(out, 0, axis)
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    if not (_contains_box(start) or _contains_box(stop) or _contains_box(base)):
        return _np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype,
                            axis=axis)
    exponents = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    return power(base, exponents)


def full(shape, fill_value, dtype=None, order="C"):
    if not _contains_box(fill_value):
        return _np.full(shape, fill_value, dtype=dtype, order=order)
    _float_dtype("full", dtype)
    return asarray(fill_value) + _np.zeros(shape)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    if not _contains_box(fill_value):
        return _np.full_like(getval(a), fill_value, dtype=dtype, order=order, subok=subok,
                             shape=shape)
    return full(_np.shape(getval(a)) if shape is None else shape, fill_value, dtype=dtype)


def arange(*args, **kwargs):
    if _contains_box(args) or _contains_box(list(kwargs.values())):
        from ..tracer import NoDerivativeError

        raise NoDerivativeError(
            "arange: an argument is a traced value, but the number of entries jumps as it "
            "changes, so arange has no derivative. Use linspace(start, stop, num) with a fixed "
            "num, or start + step * numpy.arange(n).")
    return _np.arange(*args, **kwargs)
