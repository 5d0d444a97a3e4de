"""Reverse mode (``make_vjp``) and forward mode (``make_jvp``) on top of the tracer.

Reverse mode runs the function once, recording a graph, then walks the graph from the
output back to the inputs, turning an output cotangent ``g`` into input cotangents by
applying each node's VJP rule.  A node may feed several later nodes (``y = x * x``
uses ``x`` twice), so its cotangent is the *sum* over all of its uses.  The walk
therefore visits nodes in reverse topological order: a node is processed only after
every node that consumed it has handed back its contribution, so its cotangent is
complete when it is passed on.  Each node's VJP runs exactly once, which is why a
gradient costs a small constant times one forward pass, however many inputs there
are.

Forward mode needs no graph: each box carries a tangent alongside its value, and every
primitive pushes the tangent through its JVP rule as it computes.
"""

import warnings

import numpy as _np

from .tracer import Box, ForwardNode, ReverseNode, _meter, new_trace_id
from .tree import tree_flatten


def _check_differentiable_input(value, what):
    """Refuse inputs whose derivative is meaningless here, saying what to pass instead."""
    if isinstance(value, Box):
        return
    kind = _np.result_type(value).kind if not isinstance(value, bool) else "b"
    if kind in "biu":
        raise TypeError(
            f"{what} has integer or boolean type ({_np.result_type(value).name}); derivatives "
            f"need floating-point inputs. Pass a float instead, e.g. 3.0 instead of 3, or "
            f"x.astype(float)."
        )
    if kind == "c":
        raise TypeError(f"{what} is complex; mini_autograd differentiates real floats only.")
    if kind != "f":
        raise TypeError(
            f"{what} has dtype {_np.result_type(value)}, which cannot be differentiated; "
            f"pass a float, a float array, or a list/tuple/dict of them."
        )


def toposort(end_nodes):
    """Nodes reachable from ``end_nodes``, each after every node that consumed it."""
    counts = {}  # per node: uses by other reachable nodes, plus once per appearance in end_nodes
    stack = list(end_nodes)
    while stack:
        node = stack.pop()
        if node in counts:
            counts[node] += 1
        else:
            counts[node] = 1
            stack.extend(node.parents)
    ready = []
    for node in end_nodes:
        counts[node] -= 1
        if counts[node] == 0:
            ready.append(node)
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in node.parents:
            remaining = counts[parent] - 1
            counts[parent] = remaining
            if remaining == 0:
                ready.append(parent)
    return order


def backward_pass(seeds, record=None):
    """Propagate cotangents from ``seeds`` (pairs of node and cotangent) to every node.

    Returns the map from node to cotangent, of which the caller reads the roots'.
    ``record``, if a dict, also receives every node's cotangent (used to draw graphs).
    """
    outgrads = {}
    for node, g in seeds:
        outgrads[node] = g if node not in outgrads else outgrads[node] + g
    order = toposort([node for node, _ in seeds])
    meter = _meter.meter if _meter.active else None
    if meter is not None or record is not None:
        return _backward_instrumented(order, outgrads, meter, record)
    for node in order:
        prim = node.prim
        if prim is None:
            continue  # a root: its cotangent stays in outgrads for the caller
        g = outgrads.pop(node)
        rules = prim.vjps
        args = node.args
        kwargs = node.kwargs
        for argnum, parent in zip(node.argnums, node.parents):
            rule = rules.get(argnum)
            if rule is None:
                contribution = prim.vjp_argnum(argnum, g, node.ans, args, kwargs)
            elif kwargs:
                contribution = rule(g, node.ans, *args, **kwargs)
            else:
                contribution = rule(g, node.ans, *args)
            previous = outgrads.get(parent)
            outgrads[parent] = contribution if previous is None else previous + contribution
    return outgrads


def _backward_instrumented(order, outgrads, meter, record):
    """The same walk as `backward_pass`, also counting work and/or recording cotangents."""
    if meter is not None:
        meter._phase = "backward"
    try:
        for node in order:
            g = outgrads[node]
            if record is not None:
                record[node] = g
            prim = node.prim
            if prim is None:
                continue
            del outgrads[node]
            for argnum, parent in zip(node.argnums, node.parents):
                if meter is not None:
                    meter.vjp_evals += 1
                    contribution = _metered_vjp(prim, argnum, g, node)
                else:
                    contribution = prim.vjp(argnum, g, node.ans, node.args, node.kwargs)
                previous = outgrads.get(parent)
                outgrads[parent] = contribution if previous is None else previous + contribution
    finally:
        if meter is not None:
            meter._phase = "forward"
    return outgrads


def _metered_vjp(prim, argnum, g, node):
    """Apply a VJP rule with its inputs viewed as CountedArray, so all its work is counted."""
    from .cost import counted

    args = [counted(a) for a in node.args]
    return prim.vjp(argnum, counted(g), counted(node.ans), args, node.kwargs)


def _zeros_like(value):
    return _np.zeros_like(_getval_all(value), dtype=float) if _np.ndim(value) else 0.0


def _getval_all(x):
    while isinstance(x, Box):
        x = x._value
    return x


def _vjp_of(fun, x):
    """Run ``fun(x)`` under a new reverse trace; return ``(vjp, ans)``."""
    trace = new_trace_id()
    leaves, unflatten = tree_flatten(x)
    for leaf in leaves:
        _check_differentiable_input(leaf, "the input to differentiate")
    roots = [ReverseNode.root(leaf) for leaf in leaves]
    boxed = unflatten([Box(leaf, trace, root) for leaf, root in zip(leaves, roots)])
    end = fun(boxed)
    out_leaves, out_unflatten = tree_flatten(end)
    traced = [i for i, leaf in enumerate(out_leaves)
              if leaf.__class__ is Box and leaf._trace == trace]
    values = out_unflatten([leaf._value if i in traced else leaf
                            for i, leaf in enumerate(out_leaves)]) if traced else end
    if not traced:
        warnings.warn("Output seems independent of input.", stacklevel=3)

        def vjp_const(g):
            return unflatten([_zeros_like(leaf) for leaf in leaves])

        return vjp_const, values

    end_nodes = [out_leaves[i]._node for i in traced]

    def vjp(g):
        g_leaves, _ = tree_flatten(g)
        if len(g_leaves) != len(out_leaves):
            raise ValueError(f"vjp: the cotangent has {len(g_leaves)} parts but the output has "
                             f"{len(out_leaves)}; give one with the output's structure.")
        outgrads = backward_pass([(node, g_leaves[i]) for node, i in zip(end_nodes, traced)])
        if _meter.active:
            from .cost import uncounted

            outgrads = {node: uncounted(v) for node, v in outgrads.items()}
        return unflatten([
            outgrads[root] if root in outgrads else _zeros_like(leaf)
            for root, leaf in zip(roots, leaves)
        ])

    return vjp, values


def _jvp_of(fun, x, v):
    trace = new_trace_id()
    leaves, unflatten = tree_flatten(x)
    tangents, _ = tree_flatten(v)
    if len(tangents) != len(leaves):
        raise ValueError(
            f"make_jvp: the tangent has {len(tangents)} leaves but the input has {len(leaves)}; "
            "give a tangent with the same structure as the input."
        )
    for leaf, t in zip(leaves, tangents):
        _check_differentiable_input(leaf, "the input to differentiate")
        if _np.shape(leaf) != _np.shape(t):
            raise ValueError(
                f"make_jvp: tangent shape {_np.shape(t)} does not match input shape "
                f"{_np.shape(leaf)}."
            )
    boxed = unflatten([Box(leaf, trace, ForwardNode(t)) for leaf, t in zip(leaves, tangents)])
    out = fun(boxed)
    out_leaves, out_unflatten = tree_flatten(out)
    values, out_tangents = [], []
    for leaf in out_leaves:
        if leaf.__class__ is Box and leaf._trace == trace:
            values.append(leaf._value)
            out_tangents.append(leaf._node.tangent)
        else:
            values.append(leaf)
            out_tangents.append(_zeros_like(leaf))
    if _meter.active:
        from .cost import uncounted

        out_tangents = [uncounted(t) for t in out_tangents]
    return out_unflatten(values), out_unflatten(out_tangents)


def _with_argnum(fun, argnum, args):
    """Turn ``fun(*args)`` into a one-argument function of ``args[argnum]``.

    ``argnum`` may be a tuple, in which case the one argument is the tuple of those
    positional arguments (autograd's convention).
    """
    if isinstance(argnum, int):
        if argnum >= len(args):
            raise IndexError(f"argnum={argnum} but the function was called with {len(args)} arguments.")

        def unary(x):
            new_args = list(args)
            new_args[argnum] = x
            return fun(*new_args)

        return unary, args[argnum]

    argnums = tuple(argnum)

    def unary(xs):
        new_args = list(args)
        for i, x in zip(argnums, xs):
            new_args[i] = x
        return fun(*new_args)

    return unary, tuple(args[i] for i in argnums)


def make_vjp(fun, argnum=0):
    """``make_vjp(f, argnum)(*args) -> (vjp, ans)``; ``vjp(g)`` is g^T times the Jacobian."""

    def vjp_maker(*args, **kwargs):
        unary, x = _with_argnum(lambda *a: fun(*a, **kwargs), argnum, args)
        return _vjp_of(unary, x)

    return vjp_maker


def make_jvp(fun, argnum=0):
    """``make_jvp(f, argnum)(*args)(v) -> (ans, jvp)``; ``jvp`` is the Jacobian times v."""

    def jvp_maker(*args, **kwargs):
        unary, x = _with_argnum(lambda *a: fun(*a, **kwargs), argnum, args)

        def jvp(v):
            return _jvp_of(unary, x, v)

        return jvp

    return jvp_maker
