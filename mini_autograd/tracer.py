"""Boxes, primitives and the recording of one node: the bottom of the engine.

A *trace* is one act of differentiation.  Each call to ``make_vjp`` or ``make_jvp``
opens a new trace with a fresh, larger integer id and wraps its input in a `Box`
tagged with that id.  A box behaves like the array it holds; when a box reaches a
`Primitive`, the primitive computes on the unwrapped values and wraps the answer in a
new box whose *node* remembers how the answer was made.  What a node keeps is up to
its class: ``core.ReverseNode`` keeps what the VJP rules will read, ``core.ForwardNode``
pushes the tangent through the JVP rules at once.  This module knows neither mode.

Why integer ids, and why "largest id first"?  Nested derivatives (``grad(grad(f))``,
MAML, hypergradients) put boxes inside boxes: the inner trace's box holds a value that
is itself a box of the outer trace.  A primitive always peels the *newest* trace off
its arguments first, computes (which may record on older traces, recursively), and
only then records its own node.  Each trace therefore sees exactly the operations
that depend on its own input, and a value from an enclosing trace is a constant to
it.  That is what rules out "perturbation confusion": in
``d/dx [x * d/dy (x + y)]`` the inner derivative treats ``x`` as a constant and is 1,
so the whole derivative is 1, not 2.

A trace is *live* while the function being differentiated runs.  A box that escapes
(kept in a global list, say) belongs to a finished trace; it is then a constant.

Instruments (the cost meter, graph recording) plug into one slot, `Instrument`:
they may wrap the evaluation of a primitive, the application of a derivative rule
and the final result; nothing here knows what they do.
"""

import inspect
import itertools

import numpy as _np

_trace_ids = itertools.count(1)
_FIRST = (0,)  # argnums of a one-argument call
_live = set()  # ids of the traces whose function is still running


class new_trace:
    """``with new_trace() as trace:``: a fresh trace id, larger than any before, live inside."""

    def __enter__(self):
        self.trace = next(_trace_ids)
        _live.add(self.trace)
        return self.trace

    def __exit__(self, *exc):
        _live.discard(self.trace)


class Box:
    """A value being differentiated: the raw value, its trace id, and its graph node.

    The arithmetic and array methods live in ``mini_autograd.numpy.box_methods``;
    they call the differentiable functions, so a box can be used where an array
    would be.
    """

    __slots__ = ("_value", "_trace", "_node")
    __array_priority__ = 100.0  # make NumPy hand mixed ndarray/Box operations to the Box

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node

    def __repr__(self):
        ended = "" if self._trace in _live else ", trace ended: a constant now"
        return f"Box({self._value!r}, trace={self._trace}{ended})"


def getval(x):
    """Strip every layer of boxing: the plain NumPy value underneath."""
    while x.__class__ is Box:
        x = x._value
    return x


def isbox(x):
    return x.__class__ is Box


def is_live(box):
    return box._trace in _live


def strip_ended(x):
    """``x`` with the boxes of finished traces peeled off (they are constants)."""
    while x.__class__ is Box and x._trace not in _live:
        x = x._value
    return x


class NoDerivativeError(TypeError):
    """Raised when a traced value reaches an argument that has no derivative rule."""


class OperationError(ValueError):
    """A NumPy ValueError, re-raised naming the primitive and its arguments' shapes."""


class Primitive:
    """A NumPy-level function with its derivative rules kept beside it.

    ``vjp`` rules have the signature ``rule(g, ans, *args, **kwargs)`` and return the
    contribution to the gradient of one argument: g times the Jacobian of the
    output with respect to that argument, summed back to the argument's shape.
    ``jvp`` rules have the signature ``rule(t, ans, *args, **kwargs)`` and return the
    Jacobian times a tangent ``t`` of one argument.  Rules are written with the
    differentiable functions of ``mini_autograd.numpy``, so they can themselves be
    differentiated: that is all higher-order derivatives need.

    ``saves`` says what the VJP rules read, so that a recorded node keeps nothing else
    alive: ``"all"`` (the traced arguments and the answer), ``"args"``, ``"ans"``, or
    ``"shapes"`` (rules that only need the traced arguments' shapes, like add's).
    Constant arguments are always kept.  Holding on to unneeded intermediates costs
    memory and, through fresh page faults on every new array, time.
    """

    def __init__(self, fun, name=None, flops=None, saves="all"):
        if saves not in ("all", "args", "ans", "shapes"):
            raise ValueError(f"saves must be 'all', 'args', 'ans' or 'shapes', not {saves!r}")
        self.fun = fun
        self.saves = saves
        self.name = name or getattr(fun, "__name__", repr(fun))
        self.__name__ = self.name
        self.__doc__ = getattr(fun, "__doc__", None)
        self.__wrapped__ = fun
        self.vjps = {}
        self.jvps = {}
        self.vjp_argnum = None  # rule(argnum, g, ans, args, kwargs) for variadic primitives
        self.jvp_argnum = None
        self.flops = flops  # flops(ans, *args, **kwargs) -> int; default: size of ans

    def __call__(self, *args, **kwargs):
        if len(args) == 1:  # the commonest case, kept short: one box, one live trace
            box = args[0]
            if (box.__class__ is Box and _instrument is None and box._trace in _live
                    and box._value.__class__ is not Box):
                value, node = box._value, box._node
                try:
                    ans = self.fun(value, **kwargs)
                except ValueError as e:
                    raise _explained(self, args, e) from e
                return Box(ans, box._trace, node.__class__(self, ans, (value,), kwargs, _FIRST,
                                                           (node,)))
        trace = 0
        for a in args:
            if a.__class__ is Box and a._trace > trace:
                trace = a._trace
        if trace:
            return _record(self, trace, args, kwargs)
        if _instrument is not None:
            return _instrument.evaluate(self, args, kwargs)
        try:
            return self.fun(*args, **kwargs)
        except ValueError as e:
            raise _explained(self, args, e) from e

    def defvjp(self, *rules):
        """One VJP rule per positional argument, in order; None for "not differentiable"."""
        for argnum, rule in enumerate(rules):
            if rule is not None:
                self.vjps[argnum] = _FirstUse(self, "VJP", self.vjps, argnum, rule)
        return self

    def defjvp(self, *rules):
        """One JVP rule per positional argument, in order; None for "not differentiable"."""
        for argnum, rule in enumerate(rules):
            if rule is not None:
                self.jvps[argnum] = _FirstUse(self, "JVP", self.jvps, argnum, rule)
        return self

    def defvjp_argnum(self, rule):
        """A single VJP rule ``rule(argnum, g, ans, args, kwargs)`` for variadic primitives."""
        self.vjp_argnum = rule
        return self

    def defjvp_argnum(self, rule):
        """A single JVP rule ``rule(argnum, t, ans, args, kwargs)`` for variadic primitives."""
        self.jvp_argnum = rule
        return self

    def vjp(self, argnum, g, ans, args, kwargs):
        rule = self.vjps.get(argnum)
        if rule is not None:
            return rule(g, ans, *args, **kwargs)
        return self.vjp_argnum(argnum, g, ans, args, kwargs)

    def jvp(self, argnum, t, ans, args, kwargs):
        rule = self.jvps.get(argnum)
        if rule is not None:
            return rule(t, ans, *args, **kwargs)
        return self.jvp_argnum(argnum, t, ans, args, kwargs)

    def has_rule(self, argnum, kind):
        """Is there a ``kind`` ("VJP" or "JVP") rule for positional argument ``argnum``?"""
        if kind == "VJP":
            return argnum in self.vjps or self.vjp_argnum is not None
        return argnum in self.jvps or self.jvp_argnum is not None

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(fun=None, *, name=None, flops=None, saves="all"):
    """Decorator: make ``fun`` a `Primitive`; then attach rules with ``.defvjp``/``.defjvp``."""
    if fun is None:
        return lambda f: Primitive(f, name=name, flops=flops, saves=saves)
    return Primitive(fun, name=name, flops=flops, saves=saves)


class _FirstUse:
    """A rule as registered: checked when defined, and on its first call, then replaced by itself.

    Rules written for HIPS autograd are curried, ``lambda ans, x: lambda g: ...``; here
    they would hand back a function where an array belongs.  The signature check catches
    most at definition; the first call catches the rest, after which the plain rule
    takes this object's place (so checking costs nothing afterwards).
    """

    __slots__ = ("prim", "kind", "table", "argnum", "rule")

    def __init__(self, prim, kind, table, argnum, rule):
        self.prim, self.kind, self.table, self.argnum, self.rule = prim, kind, table, argnum, rule
        wanted = 2 + max(argnum + 1, _required_positional(prim.fun))
        try:
            params = inspect.signature(rule).parameters.values()
        except (TypeError, ValueError):
            return
        if any(p.kind is p.VAR_POSITIONAL for p in params):
            return
        takes = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        if takes < wanted:
            raise TypeError(self._complaint(f"takes {takes} positional arguments, but it is "
                                            f"called with at least {wanted}"))

    def _complaint(self, problem):
        first = "g" if self.kind == "VJP" else "t"
        return (f"{self.prim.name}: the {self.kind} rule for argument {self.argnum} {problem}. "
                f"Rules here take ({first}, ans, *args, **kwargs) and return an array, e.g. "
                f"lambda {first}, ans, x: {first} * cos(x); autograd's curried form "
                f"lambda ans, x: lambda {first}: ... is not used.")

    def __call__(self, *args, **kwargs):
        out = self.rule(*args, **kwargs)
        if out is None or callable(out):
            raise TypeError(self._complaint(f"returned {'None' if out is None else 'a function'}, "
                                            f"not an array"))
        self.table[self.argnum] = self.rule
        return out


def _required_positional(fun):
    nin = getattr(fun, "nin", None)  # NumPy ufuncs have no signature but say how many inputs
    if nin is not None:
        return nin
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return 1
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
               for p in params)


def _record(prim, trace, args, kwargs):
    """Compute ``prim`` on the values under the newest trace, then record a node for it."""
    if trace not in _live:  # a box that outlived its trace: it is a constant now
        return prim(*[strip_ended(a) for a in args], **kwargs)
    raw = list(args)
    argnums = []
    parents = []
    nested = False  # do older traces also appear? then the computation is recorded there too
    for i, a in enumerate(args):
        if a.__class__ is Box:
            if a._trace == trace:
                argnums.append(i)
                parents.append(a._node)
                value = raw[i] = a._value
                nested = nested or value.__class__ is Box
            else:
                nested = True
    if nested or _instrument is not None:
        ans = prim(*raw, **kwargs)
    else:
        ans = _evaluate(prim, raw, kwargs)
    return Box(ans, trace, parents[0].__class__(prim, ans, raw, kwargs, argnums, parents))


def _evaluate(prim, args, kwargs):
    try:
        return prim.fun(*args, **kwargs)
    except ValueError as e:
        raise _explained(prim, args, e) from e


def _explained(prim, args, error):
    """NumPy's ValueError, prefixed with the operation's name and its arguments' shapes.

    NumPy says "operands could not be broadcast together with shapes (3,) (5,)" without
    saying which operation, and its matmul error gives neither shape.
    """
    if isinstance(error, OperationError):
        return error  # already explained by a nested call
    message = str(error)
    if not any(word in message for word in ("shape", "broadcast", "dimension", "mismatch")):
        return OperationError(f"{prim.name}: {message}")
    shapes = " and ".join(str(_np.shape(getval(a))) for a in args
                          if isinstance(a, (Box, _np.ndarray, float, int, _np.generic)))
    return OperationError(f"{prim.name}: arguments of shapes {shapes} do not fit together "
                          f"(NumPy: {message})")


def no_rule_error(prim, argnum, kind):
    """The error for a traced value reaching an argument without a ``kind`` rule."""
    try:
        name = f" ({list(inspect.signature(prim.fun).parameters)[argnum]!r})"
    except (TypeError, ValueError, IndexError):
        name = ""
    mode = "reverse-mode" if kind == "VJP" else "forward-mode"
    return NoDerivativeError(
        f"{prim.name}: no {mode} ({kind}) derivative rule with respect to argument "
        f"{argnum}{name}, but that argument depends on the input being differentiated. "
        f"Make it a constant (mini_autograd.stop_gradient) or rewrite the computation "
        f"with differentiable operations.")


class Instrument:
    """The slot through which tools watch the engine work (``cost.CostMeter``, graph drawing).

    ``with instrument:`` attaches it.  Each hook does the plain thing by default, or
    hands over to the instrument attached before (``self.outer``), so instruments nest
    and all of them see the work done inside the innermost.  Hooks:

    * ``evaluate(prim, args, kwargs)``: compute one primitive on plain values;
    * ``vjp(node, argnum, g, ans, args, total)``: apply one VJP rule (the rule reads
      ``ans``, ``args`` and ``node.kwargs``) and add the result to ``total``;
    * ``jvp(prim, argnum, t, ans, args, kwargs, total)``: the same for a JVP rule;
    * ``result(value)``: a gradient or tangent about to be handed to the user.

    While one is attached the engine takes its general path, which is slower.
    """

    outer = None

    def evaluate(self, prim, args, kwargs):
        if self.outer is not None:
            return self.outer.evaluate(prim, args, kwargs)
        return _evaluate(prim, args, kwargs)

    def vjp(self, node, argnum, g, ans, args, total):
        if self.outer is not None:
            return self.outer.vjp(node, argnum, g, ans, args, total)
        if not node.prim.has_rule(argnum, "VJP"):
            raise no_rule_error(node.prim, argnum, "VJP")
        out = node.prim.vjp(argnum, g, ans, args, node.kwargs)
        return out if total is None else total + out

    def jvp(self, prim, argnum, t, ans, args, kwargs, total):
        if self.outer is not None:
            return self.outer.jvp(prim, argnum, t, ans, args, kwargs, total)
        out = prim.jvp(argnum, t, ans, args, kwargs)
        return out if total is None else total + out

    def result(self, value):
        return value if self.outer is None else self.outer.result(value)

    def __enter__(self):
        global _instrument
        self.outer, _instrument = _instrument, self
        return self

    def __exit__(self, *exc):
        global _instrument
        _instrument, self.outer = self.outer, None
        return False


_instrument = None  # the innermost attached Instrument, or None


def instrument():
    """The innermost attached `Instrument`, or None."""
    return _instrument
