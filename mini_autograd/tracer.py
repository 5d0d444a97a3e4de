"""Boxes, primitives and nodes: the part of the engine that records a computation.

A *trace* is one act of differentiation.  Each call to ``make_vjp`` or ``make_jvp``
opens a new trace with a fresh, larger integer id and wraps its input in a `Box`
tagged with that id.  A box behaves like the array it holds; when a box reaches a
`Primitive`, the primitive computes on the unwrapped values and wraps the answer in a
new box whose `node` remembers how the answer was made.

Why integer ids, and why "largest id first"?  Nested derivatives (``grad(grad(f))``,
MAML, hypergradients) put boxes inside boxes: the inner trace's box holds a value that
is itself a box of the outer trace.  A primitive always peels the *newest* trace off
its arguments first, computes (which may record on older traces, recursively), and
only then records its own node.  Each trace therefore sees exactly the operations
that depend on its own input, and a value from an enclosing trace is a constant to
it.  That is what rules out "perturbation confusion": in
``d/dx [x * d/dy (x + y)]`` the inner derivative treats ``x`` as a constant and is 1,
so the whole derivative is 1, not 2.
"""

import itertools

import numpy as _np

_trace_ids = itertools.count(1)


def new_trace_id():
    """A fresh trace id, larger than every id handed out before."""
    return next(_trace_ids)


class Box:
    """A value being differentiated: the raw value, its trace id, and its graph node.

    The arithmetic and array methods live in ``mini_autograd.numpy.box_methods``;
    they call the differentiable functions, so a box can be used where an array
    would be.
    """

    __slots__ = ("_value", "_trace", "_node")
    # Make NumPy hand mixed ndarray/Box operations to the Box's methods.
    __array_priority__ = 100.0

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node

    def __repr__(self):
        return f"Box({self._value!r}, trace={self._trace})"


def getval(x):
    """Strip every layer of boxing: the plain NumPy value underneath."""
    while x.__class__ is Box:
        x = x._value
    return x


def isbox(x):
    return x.__class__ is Box


class NoDerivativeError(TypeError):
    """Raised when a traced value reaches an argument that has no derivative rule."""


class Primitive:
    """A NumPy-level function with its derivative rules kept beside it.

    ``vjp`` rules have the signature ``rule(g, ans, *args, **kwargs)`` and return the
    contribution to the gradient of one argument: g times the Jacobian of the
    output with respect to that argument, summed back to the argument's shape.
    ``jvp`` rules have the signature ``rule(t, ans, *args, **kwargs)`` and return the
    Jacobian times a tangent ``t`` of one argument.  Rules are written with the
    differentiable functions of ``mini_autograd.numpy``, so they can themselves be
    differentiated: that is all higher-order derivatives need.
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
        # What the VJP rules read, so that a recorded node keeps nothing else alive:
        # "all" (the traced arguments and the answer), "args", "ans", or "shapes" (rules
        # that only need shapes, like add's).  Holding on to unneeded intermediates costs
        # memory and, through fresh page faults on every new array, time.

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and args[0].__class__ is Box:
            return _record_unary(self, args[0], kwargs)
        trace = 0
        for a in args:
            if a.__class__ is Box and a._trace > trace:
                trace = a._trace
        if trace == 0:
            if _meter.active:
                return _meter.meter._evaluate(self, args, kwargs)
            try:
                return self.fun(*args, **kwargs)
            except ValueError as e:
                raise _explained(self, args, e) from e
        return _record(self, trace, args, kwargs)

    def defvjp(self, *rules):
        """One VJP rule per positional argument, in order; None for "not differentiable"."""
        for argnum, rule in enumerate(rules):
            if rule is not None:
                self.vjps[argnum] = rule
        return self

    def defjvp(self, *rules):
        """One JVP rule per positional argument, in order; None for "not differentiable"."""
        for argnum, rule in enumerate(rules):
            if rule is not None:
                self.jvps[argnum] = rule
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

    def has_rule(self, argnum, mode):
        if mode == "rev":
            return argnum in self.vjps or self.vjp_argnum is not None
        return argnum in self.jvps or self.jvp_argnum is not None

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(fun=None, *, name=None, flops=None, saves="all"):
    """Decorator: make ``fun`` a `Primitive`; then attach rules with ``.defvjp``/``.defjvp``."""
    if fun is None:
        return lambda f: Primitive(f, name=name, flops=flops, saves=saves)
    return Primitive(fun, name=name, flops=flops, saves=saves)


class ShapeOnly:
    """Stands in for a value that a VJP rule needs only the shape of."""

    __slots__ = ("shape", "ndim")

    def __init__(self, value):
        try:
            self.shape = value.shape
        except AttributeError:
            self.shape = _np.shape(value)
        self.ndim = len(self.shape)

    def __repr__(self):
        return f"ShapeOnly{self.shape}"


# Set by graph drawing, which shows every intermediate value.
keep_all_values = False


class ReverseNode:
    """One recorded operation of a reverse-mode trace: enough to apply its VJP later."""

    __slots__ = ("prim", "args", "kwargs", "ans", "argnums", "parents")

    def __init__(self, prim, args, kwargs, ans, argnums, parents):
        self.prim = prim
        self.args = args
        self.kwargs = kwargs
        self.ans = ans
        self.argnums = argnums
        self.parents = parents

    @classmethod
    def root(cls, value):
        return cls(None, (), {}, value, (), ())


class ForwardNode:
    """One value of a forward-mode trace: the tangent travels with the value."""

    __slots__ = ("tangent",)

    def __init__(self, tangent):
        self.tangent = tangent


def _argument_name(prim, argnum):
    import inspect

    try:
        params = list(inspect.signature(prim.fun).parameters)
        if argnum < len(params):
            return f"argument {argnum} ({params[argnum]!r})"
    except (TypeError, ValueError):
        pass
    return f"argument {argnum}"


def _record(prim, trace, args, kwargs):
    """Compute ``prim`` on the values under the newest trace, then record a node for it."""
    raw = list(args)
    argnums = []
    parents = []
    nested = False  # do older traces also appear? then the computation must be recorded there too
    i = 0
    for a in args:
        if a.__class__ is Box:
            if a._trace == trace:
                argnums.append(i)
                parents.append(a._node)
                value = raw[i] = a._value
                if value.__class__ is Box:
                    nested = True
            else:
                nested = True
        i += 1
    if nested or _meter.active:
        ans = prim(*raw, **kwargs)
    else:
        try:
            ans = prim.fun(*raw, **kwargs)
        except ValueError as e:
            raise _explained(prim, raw, e) from e
    if parents[0].__class__ is ReverseNode:
        if prim.vjp_argnum is None:
            vjps = prim.vjps
            for i in argnums:
                if i not in vjps:
                    _raise_no_rule(prim, i, "rev")
        saves = prim.saves
        if saves == "all" or keep_all_values:
            return Box(ans, trace, ReverseNode(prim, raw, kwargs, ans, argnums, parents))
        saved_ans = ans if saves == "ans" else None
        if saves != "args":
            for i in argnums:
                raw[i] = ShapeOnly(raw[i])
        return Box(ans, trace, ReverseNode(prim, raw, kwargs, saved_ans, argnums, parents))
    tangent = None
    meter = _meter.meter if _meter.active else None
    if meter is not None:
        phase, meter._phase = meter._phase, "tangent"
    for i, parent in zip(argnums, parents):
        if not prim.has_rule(i, "fwd"):
            _raise_no_rule(prim, i, "fwd")
        if meter is not None:
            meter.jvp_evals += 1
        if meter is None:
            contribution = prim.jvp(i, parent.tangent, ans, raw, kwargs)
        else:
            from .cost import counted

            contribution = prim.jvp(i, counted(parent.tangent), counted(ans),
                                    [counted(a) for a in raw], kwargs)
        tangent = contribution if tangent is None else tangent + contribution
    if meter is not None:
        meter._phase = phase
    return Box(ans, trace, ForwardNode(tangent))


def _record_unary(prim, box, kwargs):
    """`_record` specialised to the commonest case: one argument, one reverse trace."""
    value = box._value
    node = box._node
    if (value.__class__ is Box or node.__class__ is not ReverseNode or _meter.active
            or keep_all_values or 0 not in prim.vjps):
        return _record(prim, box._trace, (box,), kwargs)
    try:
        ans = prim.fun(value, **kwargs)
    except ValueError as e:
        raise _explained(prim, (value,), e) from e
    saves = prim.saves
    if saves == "all":
        return Box(ans, box._trace, ReverseNode(prim, [value], kwargs, ans, [0], [node]))
    if saves == "shapes":
        value = ShapeOnly(value)
    return Box(ans, box._trace, ReverseNode(prim, [value], kwargs, ans if saves == "ans" else None,
                                            [0], [node]))


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


class OperationError(ValueError):
    """A NumPy ValueError, re-raised naming the primitive and its arguments' shapes."""


def _raise_no_rule(prim, argnum, mode):
    kind = "reverse-mode (VJP)" if mode == "rev" else "forward-mode (JVP)"
    raise NoDerivativeError(
        f"{prim.name}: no {kind} derivative rule with respect to "
        f"{_argument_name(prim, argnum)}, but that argument depends on the input being "
        f"differentiated. Make it a constant (mini_autograd.stop_gradient) or "
        f"rewrite the computation with differentiable operations."
    )


class _MeterSwitch:
    """Holds the active cost meter, if any (see ``mini_autograd.cost``)."""

    __slots__ = ("active", "meter")

    def __init__(self):
        self.active = False
        self.meter = None


_meter = _MeterSwitch()


def default_flops(prim, ans, args, kwargs):
    if prim.flops is not None:
        return int(prim.flops(ans, *args, **kwargs))
    return int(_np.size(ans))
