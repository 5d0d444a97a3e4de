"""Give `Box` the operators and methods of an ndarray, routed to differentiable functions.

Three guards keep a gradient from being silently wrong:

* ``box[i] = v`` raises: in-place writes would change a value that recorded nodes
  still refer to.
* ``numpy.asarray(box)``, ``float(box)`` and friends raise: they would turn a traced
  value into a constant, and every gradient through it would quietly become zero.
* plain NumPy functions and ufuncs called on a box are dispatched to the
  ``mini_autograd.numpy`` function of the same name when there is one, and raise
  naming the missing function otherwise.
"""

import operator

import numpy as _np

from ..tracer import Box, getval, is_live
from . import ops


def _binary(fun):
    return (lambda self, other: fun(self, other)), (lambda self, other: fun(other, self))


Box.__add__, Box.__radd__ = _binary(ops.add)
Box.__sub__, Box.__rsub__ = _binary(ops.subtract)
Box.__mul__, Box.__rmul__ = _binary(ops.multiply)
Box.__truediv__, Box.__rtruediv__ = _binary(ops.divide)
Box.__pow__, Box.__rpow__ = _binary(ops.power)
Box.__matmul__, Box.__rmatmul__ = _binary(ops.matmul)
Box.__mod__, Box.__rmod__ = _binary(ops.mod)
Box.__neg__ = lambda self: ops.negative(self)
Box.__pos__ = lambda self: self
Box.__abs__ = lambda self: ops.absolute(self)

# Comparisons look at values only; their results are not differentiable (nor need be).
Box.__lt__ = lambda self, other: getval(self) < getval(other)
Box.__le__ = lambda self, other: getval(self) <= getval(other)
Box.__gt__ = lambda self, other: getval(self) > getval(other)
Box.__ge__ = lambda self, other: getval(self) >= getval(other)
Box.__eq__ = lambda self, other: getval(self) == getval(other)
Box.__ne__ = lambda self, other: getval(self) != getval(other)
Box.__hash__ = object.__hash__
Box.__bool__ = lambda self: bool(getval(self))
Box.__len__ = lambda self: len(getval(self))
Box.__format__ = lambda self, spec: format(getval(self), spec)


def _getitem(self, idx):
    return ops.getitem(self, ops._plain_index(idx))


def _setitem(self, idx, value):
    raise TypeError(
        "In-place assignment into a traced array (x[...] = v) is not supported: nodes "
        "already recorded still refer to the old values, so the gradient would be wrong. "
        "Build a new array instead: mini_autograd.numpy.where(mask, v, x), "
        "concatenate/stack the pieces, or collect values in a list and call "
        "mini_autograd.numpy.array(list)."
    )


def _iter(self):
    for i in range(len(self)):
        yield self[i]


Box.__getitem__ = _getitem
Box.__setitem__ = _setitem
Box.__iter__ = _iter


def _no_conversion(kind, convert_value):
    def convert(self, *args, **kwargs):
        if not is_live(self):  # the box outlived its trace: it is a constant now
            return convert_value(getval(self), *args, **kwargs)
        raise TypeError(
            f"{kind} of a traced value would cut it out of the derivative (every gradient "
            f"through it would silently become 0). Keep it as an array and use "
            f"mini_autograd.numpy functions; if you really mean a constant, use "
            f"mini_autograd.stop_gradient(x)."
        )

    return convert


Box.__array__ = _no_conversion("Converting to a NumPy array (numpy.asarray / numpy.array)",
                               lambda value, dtype=None, copy=None: _np.asarray(value, dtype))
Box.__float__ = _no_conversion("float()", float)
Box.__int__ = _no_conversion("int()", int)
Box.__complex__ = _no_conversion("complex()", complex)
Box.__index__ = _no_conversion("Using as an index", operator.index)

Box.shape = property(lambda self: _np.shape(getval(self)))
Box.ndim = property(lambda self: _np.ndim(getval(self)))
Box.size = property(lambda self: _np.size(getval(self)))
Box.dtype = property(lambda self: _np.result_type(getval(self)))
Box.T = property(lambda self: ops.transpose(self))
Box.value = property(lambda self: getval(self), doc="The plain NumPy value inside (no trace).")


def _method(name, fun):
    fun.__name__ = name
    setattr(Box, name, fun)


_method("sum", lambda self, axis=None, keepdims=False: ops.sum(self, axis=axis, keepdims=keepdims))
_method("mean", lambda self, axis=None, keepdims=False: ops.mean(self, axis=axis, keepdims=keepdims))
_method("max", lambda self, axis=None, keepdims=False: ops.max(self, axis=axis, keepdims=keepdims))
_method("min", lambda self, axis=None, keepdims=False: ops.min(self, axis=axis, keepdims=keepdims))
_method("var", lambda self, axis=None, ddof=0, keepdims=False:
        ops.var(self, axis=axis, ddof=ddof, keepdims=keepdims))
_method("std", lambda self, axis=None, ddof=0, keepdims=False:
        ops.std(self, axis=axis, ddof=ddof, keepdims=keepdims))
_method("prod", lambda self, axis=None, keepdims=False: ops.prod(self, axis=axis, keepdims=keepdims))
_method("dot", lambda self, other: ops.dot(self, other))
_method("ravel", lambda self: ops.ravel(self))
_method("flatten", lambda self: ops.ravel(self))
_method("squeeze", lambda self, axis=None: ops.squeeze(self, axis))
_method("clip", lambda self, a_min=None, a_max=None: ops.clip(self, a_min, a_max))
_method("swapaxes", lambda self, a, b: ops.swapaxes(self, a, b))
_method("cumsum", lambda self, axis=None: ops.cumsum(self, axis))


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = tuple(shape[0])
    return ops.reshape(self, shape, order=order)


def _transpose(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = axes[0]
    return ops.transpose(self, tuple(axes) if axes else None)


def _astype(self, dtype, *args, **kwargs):
    return ops.astype(self, dtype)


_method("reshape", _reshape)
_method("transpose", _transpose)
_method("astype", _astype)


# ---- NumPy protocols: np.sin(box), np.sum(box), ndarray + box ------------------------

_namespaces = {}  # "numpy" -> mini_autograd.numpy, ...; filled in by route_numpy_calls_to


def route_numpy_calls_to(namespaces):
    """Send ``numpy.f(box)`` to the function of the same name in ``namespaces[f's module]``.

    Called by ``mini_autograd.numpy`` once its namespace is complete (this module is
    imported while that namespace is still being built).
    """
    _namespaces.update(namespaces)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    target = getattr(_namespaces["numpy"], ufunc.__name__, None)
    if method == "__call__" and not kwargs.get("out") and target is not None:
        if kwargs:
            raise TypeError(f"numpy.{ufunc.__name__}: keyword arguments {sorted(kwargs)} are "
                            "not supported on traced values.")
        return target(*inputs)
    raise TypeError(
        f"numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method} was called on a "
        f"traced value and has no derivative rule here. "
        + (f"Use mini_autograd.numpy.{ufunc.__name__} instead of numpy's, and no out= argument."
           if target is not None else
           "mini_autograd.numpy has no differentiable version of it; compose it from the "
           "functions it does have.")
    )


def _array_function(self, func, types, args, kwargs):
    kwargs = {k: getval(v) if v.__class__ is Box and not is_live(v) else v
              for k, v in kwargs.items()}
    traced = [k for k, v in kwargs.items() if v.__class__ is Box]
    if traced:  # dispatching would come straight back here: primitives trace positional args
        raise TypeError(
            f"{func.__module__}.{func.__name__}: keyword argument {traced[0]!r} is a traced "
            f"value, but mini_autograd follows traced values through positional arguments "
            f"only. Pass it positionally.")
    # numpy.linalg.norm -> mini_autograd.numpy.linalg.norm; numpy.fft.fft -> none (not fft)
    ours = _namespaces.get(func.__module__)
    target = getattr(ours, func.__name__, None) if ours is not None else None
    if callable(target) and target is not func:
        return target(*args, **kwargs)  # differentiable, constant-valued, or a guard that explains
    raise TypeError(
        f"{func.__module__}.{func.__name__} was called on a traced value and mini_autograd.numpy "
        f"has no differentiable {func.__name__}. Import numpy as `import mini_autograd.numpy as "
        "np` and use one of its functions, or compose it from them."
    )


Box.__array_ufunc__ = _array_ufunc
Box.__array_function__ = _array_function


# ---- any other ndarray attribute ---------------------------------------------------

# Methods whose result does not change under small changes of the value: safe to answer
# from the value alone.
_CONSTANT_METHODS = {"argmax", "argmin", "argsort", "nonzero", "any", "all"}


def _getattr(self, name):
    # Only called when normal lookup fails, i.e. for names Box does not define.
    if name.startswith("__"):
        raise AttributeError(name)
    value = getval(self)
    if name in _CONSTANT_METHODS and hasattr(value, name):
        return getattr(value, name)
    if hasattr(_np.ndarray, name):
        raise AttributeError(
            f"the ndarray attribute {name!r} is not available on a traced value (a value "
            f"that depends on what is being differentiated). Use the function form from "
            f"mini_autograd.numpy (e.g. np.{name}(x)) if it exists. Note that derivative "
            f"rules receive traced values when they are themselves differentiated (second "
            f"derivatives), so write rules with mini_autograd.numpy functions, not methods "
            f"of plain NumPy arrays."
        )
    raise AttributeError(f"traced value (Box) has no attribute {name!r}")


Box.__getattr__ = _getattr
