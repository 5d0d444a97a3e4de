"""What the engine checks at its boundary with the user, so no gradient is silently wrong.

* inputs to differentiate must be real floats (`check_input`);
* outputs must be numbers or arrays, or containers of them, and ``grad`` needs a real
  scalar (`check_output`, `check_scalar_output`);
* a tangent or cotangent must have the structure and shapes of what it pairs with
  (`flatten_matching`): pairing leaves by position alone would silently match a dict's
  ``"a"`` with another dict's ``"b"``, and broadcasting would turn a wrong-shape
  cotangent into a wrong-shape "gradient";
* what goes back to the user is independent, writable, of the input's dtype (`finished`);
* a VJP rule that reads a value its primitive's ``saves=`` dropped meets a stand-in
  (`ShapeOnly`, `NOT_SAVED`) that refuses every use, and the error names the primitive.
"""

import numpy as _np

from .tracer import Box, getval, instrument
from .tree import tree_flatten


class ShapeOnly:
    """Stands in for an argument whose value the VJP rules do not read (``saves=``)."""

    __slots__ = ("shape", "ndim")

    def __init__(self, value):
        try:
            self.shape = value.shape
        except AttributeError:
            self.shape = _np.shape(value)
        self.ndim = len(self.shape)

    def __repr__(self):
        return f"ShapeOnly{self.shape}"


class _NotSaved:
    """Stands in for an answer the VJP rules do not read (``saves="args"`` or ``"shapes"``)."""

    __slots__ = ()

    def __repr__(self):
        return "NOT_SAVED"


class SavesError(TypeError):
    """A VJP rule read a value that its primitive's ``saves=`` told the node to drop."""


def _refuse(self, *args, **kwargs):
    raise SavesError("a VJP rule read a value that its primitive does not keep")


for _name in ("__array__", "__array_ufunc__", "__float__", "__bool__", "__len__", "__iter__",
              "__getitem__", "__neg__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__",
              "__rmul__", "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__matmul__",
              "__rmatmul__", "__lt__", "__gt__", "__le__", "__ge__"):
    setattr(ShapeOnly, _name, _refuse)
    setattr(_NotSaved, _name, _refuse)
NOT_SAVED = _NotSaved()


def saves_complaint(prim, argnum):
    dropped = {"args": "the answer", "ans": "the traced arguments",
               "shapes": "the answer and the traced arguments (keeping their shapes)"}
    return (f"{prim.name}: its VJP rule for argument {argnum} read a value that the "
            f"primitive does not keep: it was declared with saves={prim.saves!r}, which drops "
            f"{dropped[prim.saves]}. Declare what the rules read: saves='args' (the "
            f"arguments), 'ans' (the answer) or 'all' (both).")


def check_input(value):
    """Refuse inputs whose derivative is meaningless here, saying what to pass instead."""
    if value.__class__ is Box:
        return
    kind = "b" if isinstance(value, bool) else _np.result_type(value).kind
    if kind in "biu":
        raise TypeError(
            f"the input to differentiate has integer or boolean type "
            f"({_np.result_type(value).name}); derivatives need floating-point inputs. Pass "
            f"a float instead, e.g. 3.0 instead of 3, or x.astype(float).")
    if kind == "c":
        raise TypeError("the input to differentiate is complex; mini_autograd "
                        "differentiates real floats only.")
    if kind != "f":
        raise TypeError(f"the input to differentiate has dtype {_np.result_type(value)}, which "
                        f"cannot be differentiated; pass a float, a float array, or a "
                        f"list/tuple/dict of them.")


def check_output(out, who):
    """Refuse outputs that cannot have a derivative, before they fail somewhere obscure."""
    if out is None:
        raise TypeError(f"{who}: the function returned None. Did it forget a `return`?")
    for leaf in tree_flatten(out)[0]:
        if leaf.__class__ is Box or isinstance(leaf, (int, float, _np.number, _np.bool_)):
            continue
        if isinstance(leaf, _np.ndarray) and leaf.dtype.kind in "biuf":
            continue
        raise TypeError(f"{who}: the function's output contains a {type(leaf).__name__} "
                        f"({leaf!r:.60}); outputs must be numbers or arrays, or lists, "
                        f"tuples and dicts of them.")


def finished(values, like, foreign):
    """Gradients (or tangents) as the user should get them: ``like`` s dtype, nothing shared.

    Rules may hand one array to several inputs (``a + b`` gives ``g`` to both), return a
    read-only broadcast view (``sum``'s rule), or pass the user's own cotangent through;
    and NumPy's type promotion may widen float32.  Copy exactly when one of those happened.
    ``foreign`` holds the ids of arrays the user passed in.
    """
    hook = instrument()
    seen = set(foreign)
    out = []
    for value, reference in zip(values, like):
        if hook is not None:
            value = hook.result(value)
        if value.__class__ is Box:  # still being differentiated by an enclosing trace
            out.append(value)
            continue
        if _np.shape(value) != _np.shape(reference):
            raise ValueError(f"a derivative rule produced shape {_np.shape(value)} for a value "
                             f"of shape {_np.shape(reference)} (a rule that forgets to sum "
                             f"over broadcast axes?)")
        if _np.iscomplexobj(value) and not _np.iscomplexobj(reference):
            raise TypeError(f"the derivative for a real value (dtype {_np.result_type(reference)})"
                            f" came out complex: the computation went through complex numbers "
                            f"that its rules do not bring back to real ones. Keep it real.")
        dtype = _np.result_type(reference)
        if dtype.kind != "f":
            dtype = _np.dtype(float)
        if isinstance(value, _np.ndarray):
            if (value.dtype != dtype or id(value) in seen or value.base is not None
                    or not value.flags.writeable):
                value = _np.array(value, dtype=dtype)
        elif _np.result_type(value) != dtype:
            value = dtype.type(value)
        seen.add(id(value))
        out.append(value)
    return out


def zeros_like(value):
    value = getval(value)
    if isinstance(value, _np.ndarray):
        return _np.zeros_like(value, dtype=value.dtype if value.dtype.kind == "f" else float)
    return _np.result_type(value).type(0) if _np.result_type(value).kind == "f" else 0.0


def _describe(x):
    if isinstance(x, dict):
        return f"a dict with keys {sorted(map(str, x))}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)}"
    return f"an array of shape {_np.shape(getval(x))}"


def _kind(x):
    return dict if isinstance(x, dict) else type(x) if isinstance(x, (list, tuple)) else None


def _match(given, like, path, leaves, what, other):
    kinds = (_kind(given), _kind(like))
    if (kinds[0] is not kinds[1] or (kinds[0] is dict and given.keys() != like.keys())
            or (kinds[0] not in (None, dict) and len(given) != len(like))):
        raise ValueError(f"{what}{path} is {_describe(given)}, but {other}{path} is "
                         f"{_describe(like)}; give one with {other}'s structure.")
    if kinds[0] is dict:
        for k in like:  # the reference's order: a dict's own order does not matter
            _match(given[k], like[k], f"{path}[{k!r}]", leaves, what, other)
    elif kinds[0] is not None:
        for i, (g, r) in enumerate(zip(given, like)):
            _match(g, r, f"{path}[{i}]", leaves, what, other)
    elif _np.iscomplexobj(getval(given)) and not _np.iscomplexobj(getval(like)):
        raise ValueError(f"{what}{path} is complex, but {other}{path} is real; the imaginary "
                         f"part would be silently dropped.")
    elif _np.shape(getval(given)) != _np.shape(getval(like)):
        raise ValueError(f"{what}{path} has shape {_np.shape(getval(given))}, but {other}"
                         f"{path} has shape {_np.shape(getval(like))}; they must be equal.")
    else:
        leaves.append(given)


def flatten_matching(given, like, what, other):
    """The leaves of ``given`` in ``like`` s order, after checking the two have the same
    container types, dict keys, lengths and leaf shapes (a tangent against its input, a
    cotangent against its output).  ``what`` and ``other`` name them in the error."""
    leaves = []
    _match(given, like, "", leaves, what, other)
    return leaves


def check_scalar_output(ans, name):
    if isinstance(ans, (list, tuple, dict)):
        raise TypeError(
            f"{name} needs a function with a scalar output, but this one returned a "
            f"{type(ans).__name__}. For several outputs use jacobian or make_vjp.")
    value = getval(ans)
    if _np.size(value) != 1:
        raise TypeError(
            f"{name} needs a function with a scalar output, but this one returned shape "
            f"{_np.shape(value)}. For a non-scalar output use elementwise_grad (sum of "
            f"rows of the Jacobian), jacobian (the full matrix), or make_vjp (any "
            f"vector-Jacobian product).")
    if not _np.issubdtype(_np.result_type(value), _np.floating):
        raise TypeError(
            f"{name} needs a real floating-point output, got dtype {_np.result_type(value)}.")
