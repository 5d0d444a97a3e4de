"""A deterministic cost meter: count primitive evaluations and floating-point operations.

Wall-clock time changes from run to run and machine to machine; operation counts do
not.  Inside ``with CostMeter() as m:`` the work mini_autograd does is counted in one
of three phases:

* ``forward``: primitives evaluated by the function itself,
* ``backward``: everything VJP rules compute during a reverse pass (including the
  arithmetic they do directly on arrays, and summing cotangents that meet),
* ``tangent``: everything JVP rules compute during forward mode,

and ``vjp_evals`` / ``jvp_evals`` count rule applications.  FLOPs follow textbook
conventions: an elementwise op producing n entries costs n, a reduction of n entries
costs n, a matrix product of (m, k) by (k, n) costs 2mnk, and reshapes, transposes,
indexing and copies cost 0.

How the rules' own arithmetic is seen: while a meter is active, the arrays handed to
rules are viewed as `CountedArray`, an ndarray subclass whose NumPy operations report
their FLOPs to the meter.  Outside a meter nothing is wrapped and nothing is slowed.
"""

import collections

import numpy as _np

from .numpy.ops import _einsum_flops
from .tracer import Instrument, instrument


class CountedArray(_np.ndarray):
    """An ndarray whose arithmetic is reported to the active `CostMeter`."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = [_plain(x) for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        out = getattr(ufunc, method)(*inputs, **kwargs)
        if method == "__call__":
            flops = _np.size(out)
            if ufunc is _np.matmul:
                flops = 2 * _np.size(out) * _np.shape(inputs[0])[-1]
        elif method == "reduce":
            flops = _np.size(inputs[0])
        elif method == "at":
            flops = _np.size(inputs[2]) if len(inputs) > 2 else 0
        else:
            flops = _np.size(out)
        _record_raw(ufunc.__name__, flops)
        return counted(out)

    def __array_function__(self, func, types, args, kwargs):
        args = _unwrap(args)
        kwargs = _unwrap(kwargs)
        out = func(*args, **kwargs)
        name = func.__name__
        if name in _FREE:
            flops = 0
        elif name in ("sum", "mean", "max", "min", "amax", "amin", "prod", "cumsum"):
            flops = _np.size(args[0])
        elif name == "einsum":
            flops = _einsum_flops(out, *args)
        elif name in ("dot", "tensordot", "inner", "vdot", "outer"):
            a, b = args[0], args[1]
            flops = 2 * _np.size(a) * _np.size(b) // max(1, _np.size(out)) * _np.size(out) \
                if name in ("outer",) else 2 * _np.size(out) * (_np.shape(a)[-1] if _np.ndim(a) else 1)
        elif name in ("solve", "inv", "det"):
            n = _np.shape(args[0])[-1]
            flops = 2 * n ** 3 // 3 + (2 * _np.size(args[1]) * n if name == "solve" else 0)
        else:
            flops = _np.size(out)
        _record_raw(name, flops)
        return counted(out)


_FREE = set("""reshape ravel transpose swapaxes moveaxis expand_dims squeeze broadcast_to
concatenate stack hstack vstack flip pad copy zeros_like ones_like empty_like full_like
shape ndim size result_type may_share_memory atleast_1d atleast_2d split array_split
take put_along_axis take_along_axis""".split())


def _plain(x):
    return x.view(_np.ndarray) if isinstance(x, CountedArray) else x


def _unwrap(obj):
    if isinstance(obj, CountedArray):
        return obj.view(_np.ndarray)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def counted(x):
    """View an array (or number) as a `CountedArray`; leave anything else alone."""
    if isinstance(x, CountedArray):
        return x
    if isinstance(x, _np.ndarray):
        return x.view(CountedArray)
    if isinstance(x, (float, _np.floating)):
        return _np.asarray(x).view(CountedArray)
    return x


def uncounted(x):
    """The plain value behind a `CountedArray` (0-d arrays become NumPy scalars)."""
    if isinstance(x, CountedArray):
        x = x.view(_np.ndarray)
        return x[()] if x.ndim == 0 else x
    return x


def _record_raw(name, flops):
    """Report arithmetic done directly on CountedArrays to every attached meter."""
    meter = instrument()
    while meter is not None:
        if isinstance(meter, CostMeter):
            meter._count(name, 0, flops)
        meter = meter.outer


class Phase:
    __slots__ = ("evals", "flops", "by_op")

    def __init__(self):
        self.evals = 0
        self.flops = 0
        self.by_op = collections.Counter()

    def __repr__(self):
        return f"Phase(evals={self.evals}, flops={self.flops})"


class CostMeter(Instrument):
    """Context manager that counts work done by mini_autograd (see the module docstring).

    It plugs into the tracer's `Instrument` slot: it counts each primitive evaluation,
    and applies each derivative rule in its phase with the rule's inputs viewed as
    `CountedArray`.  Meters nest: an outer meter also counts what an inner one sees.
    """

    def __init__(self):
        self.phases = {"forward": Phase(), "backward": Phase(), "tangent": Phase()}
        self.vjp_evals = 0
        self.jvp_evals = 0
        self._phase = "forward"

    @property
    def forward(self):
        return self.phases["forward"]

    @property
    def backward(self):
        return self.phases["backward"]

    @property
    def tangent(self):
        return self.phases["tangent"]

    @property
    def total_flops(self):
        return sum(p.flops for p in self.phases.values())

    def _count(self, name, evals, flops):
        phase = self.phases[self._phase]
        phase.evals += evals
        phase.flops += int(flops)
        phase.by_op[name] += int(flops)

    def evaluate(self, prim, args, kwargs):
        """Evaluate a primitive on plain values, counting it once."""
        args = [_plain(a) for a in args]
        ans = _plain(super().evaluate(prim, args, kwargs))
        self._count(prim.name, 1, prim.flops(ans, *args, **kwargs) if prim.flops is not None
                    else _np.size(ans))
        # In rules, keep counting whatever is computed from this answer next.
        return ans if self._phase == "forward" else counted(ans)

    def vjp(self, node, argnum, g, ans, args, total):
        self.vjp_evals += 1
        phase, self._phase = self._phase, "backward"
        try:
            return super().vjp(node, argnum, counted(g), counted(ans),
                               [counted(a) for a in args], counted(total))
        finally:
            self._phase = phase

    def jvp(self, prim, argnum, t, ans, args, kwargs, total):
        self.jvp_evals += 1
        phase, self._phase = self._phase, "tangent"
        try:
            return super().jvp(prim, argnum, counted(t), counted(ans),
                               [counted(a) for a in args], kwargs, counted(total))
        finally:
            self._phase = phase

    def result(self, value):
        return super().result(uncounted(value))

    def summary(self):
        """A dict of the counts, convenient for tables and assertions."""
        out = {f"{name}_{field}": getattr(phase, field)
               for name, phase in self.phases.items() for field in ("evals", "flops")}
        out.update(vjp_evals=self.vjp_evals, jvp_evals=self.jvp_evals,
                   total_flops=self.total_flops)
        return out

    def __repr__(self):
        parts = ", ".join(f"{name}: {p.evals} evals / {p.flops:,} flops"
                          for name, p in self.phases.items() if p.evals or p.flops)
        return f"CostMeter({parts}; vjp_evals={self.vjp_evals}, jvp_evals={self.jvp_evals})"


def count_flops(fun, *args, **kwargs):
    """Run ``fun(*args, **kwargs)`` under a fresh meter; return ``(result, meter)``."""
    with CostMeter() as meter:
        result = fun(*args, **kwargs)
    return result, meter
