"""``import mini_autograd.numpy as np``: NumPy whose functions can be differentiated.

* Differentiable functions (``ops``): arithmetic, elementwise functions, reductions,
  products, shape changes and indexing, each a primitive with its VJP and JVP rule or
  a composition of them; ``linspace``/``logspace``/``full`` follow traced arguments,
  ``arange`` refuses them (its length jumps).
* Constant-valued helpers (``zeros``, ``eye``, ``argmax``, ``sign``, comparisons...)
  pass straight through; given a traced value they look only at its value, which is
  right because their output does not change under small changes of the input.
* Any other NumPy function works on constants and raises a clear error on a traced
  value, naming the function (see ``_fallback``).
"""

import functools as _functools
import sys as _sys

import numpy as _np

from ..tracer import getval as _getval
from . import box_methods as _box_methods  # noqa: F401  (installs the ndarray interface)
from . import (
    linalg,  # noqa: F401
    random,  # noqa: F401
)
from ._fallback import guarded as _guarded
from .ops import *  # noqa: F401,F403
from .ops import (  # noqa: F401  (names `import *` skips)
    abs,
    absolute,
    add,
    amax,
    amin,
    arccos,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    array,
    asarray,
    atleast_1d,
    atleast_2d,
    broadcast_to,
    clip,
    concatenate,
    cos,
    cosh,
    cumsum,
    divide,
    dot,
    einsum,
    exp,
    expand_dims,
    expm1,
    fabs,
    flip,
    fliplr,
    flipud,
    getitem,
    hstack,
    inner,
    log,
    log1p,
    log2,
    log10,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    moveaxis,
    multiply,
    negative,
    outer,
    pad,
    power,
    prod,
    ravel,
    reciprocal,
    repeat,
    reshape,
    sin,
    sinh,
    sort,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    subtract,
    sum,
    swapaxes,
    tan,
    tanh,
    tensordot,
    tile,
    transpose,
    true_divide,
    unbroadcast,
    var,
    vdot,
    vstack,
    where,
)


def _constant(fun):
    """A NumPy function whose output is locally constant: look through any tracing."""

    @_functools.wraps(fun)
    def wrapped(*args, **kwargs):
        args = [_unbox_nested(a) for a in args]
        kwargs = {k: _unbox_nested(v) for k, v in kwargs.items()}
        return fun(*args, **kwargs)

    return wrapped


def _unbox_nested(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_unbox_nested(v) for v in x)
    return _getval(x)


_CONSTANT = """zeros ones empty eye identity
zeros_like ones_like empty_like shape ndim size argmax argmin argsort argwhere nonzero
allclose isclose array_equal isfinite isnan isinf sign floor ceil round rint trunc
greater greater_equal less less_equal equal not_equal logical_and logical_or logical_not
logical_xor any all count_nonzero diag_indices tril_indices triu_indices indices
result_type iscomplexobj isscalar searchsorted digitize""".split()

for _name in _CONSTANT:
    globals()[_name] = _constant(getattr(_np, _name))
    globals()[_name]._differentiable = False

newaxis = None
pi, e, inf, nan = _np.pi, _np.e, _np.inf, _np.nan
float64, float32, int64, int32, bool_ = _np.float64, _np.float32, _np.int64, _np.int32, _np.bool_
ndarray = _np.ndarray


def __getattr__(name):
    return _guarded(_np, name, "mini_autograd.numpy")


_box_methods.route_numpy_calls_to({"numpy": _sys.modules[__name__], "numpy.linalg": linalg})
