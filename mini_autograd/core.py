"""Reverse mode (``make_vjp``) and forward mode (``make_jvp``), each with its node class.

Reverse mode runs the function once, recording a graph of `ReverseNode` s, then walks
the graph from the output back to the inputs, turning an output cotangent ``g`` into
input cotangents by applying each node's VJP rule.  A node may feed several later
nodes (``y = x * x`` uses ``x`` twice), so its cotangent is the *sum* over all of its
uses.  The walk therefore visits nodes in reverse topological order: a node is
processed only after every node that consumed it has handed back its contribution, so
its cotangent is complete when it is passed on.  Each node's VJP runs exactly once,
which is why a gradient costs a small constant times one forward pass, however many
inputs there are.

Forward mode needs no graph: a `ForwardNode` holds the tangent of its value, pushed
through the JVP rules as soon as the value is computed.

What the user gets back is checked: a cotangent or tangent must have the structure
and shapes of what it pairs with, and gradients come back as independent, writable
arrays of the input's dtype.
"""

import functools
import warnings

import numpy as _np

from . import guards, tracer
from .guards import NOT_SAVED, SavesError, ShapeOnly
from .tracer import Box, strip_ended, new_trace, no_rule_error
from .tree import tree_flatten


class ReverseNode:
    """One recorded operation of a reverse-mode trace: enough to apply its VJP rules later.

    A missing rule is reported when the backward pass needs it (checking every node as
    it is recorded would cost a tenth of the time of recording it)."""

    __slots__ = ("prim", "args", "kwargs", "ans", "argnums", "parents")

    def __init__(self, prim, ans, args, kwargs, argnums, parents):
        saves = prim.saves
        if saves != "all":
            if saves != "ans":
                ans = NOT_SAVED
            if saves != "args":
                if len(args) == 1:
                    args = (ShapeOnly(args[0]),)
                else:
                    for i in argnums:  # args is the caller's fresh list
                        args[i] = ShapeOnly(args[i])
        self.prim = prim
        self.args = args
        self.kwargs = kwargs
        self.ans = ans
        self.argnums = argnums
        self.parents = parents

    @classmethod
    def root(cls, value):
        node = cls.__new__(cls)
        node.prim, node.args, node.kwargs, node.ans, node.argnums, node.parents = (
            None, (), {}, value, (), ())
        return node


class ForwardNode:
    """One value of a forward-mode trace: its tangent, computed as the value is."""

    __slots__ = ("tangent",)

    def __init__(self, prim, ans, args, kwargs, argnums, parents):
        hook = tracer.instrument()
        tangent = None
        for i, parent in zip(argnums, parents):
            if not prim.has_rule(i, "JVP"):
                raise no_rule_error(prim, i, "JVP")
            if hook is not None:
                tangent = hook.jvp(prim, i, parent.tangent, ans, args, kwargs, tangent)
                continue
            out = prim.jvp(i, parent.tangent, ans, args, kwargs)
            tangent = out if tangent is None else tangent + out
        self.tangent = tangent

    @classmethod
    def root(cls, tangent):
        node = cls.__new__(cls)
        node.tangent = tangent
        return node


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


def backward_pass(seeds):
    """Propagate cotangents from ``seeds`` (pairs of node and cotangent) to every node.

    Returns the map from node to cotangent, of which the caller reads the roots'.
    """
    outgrads = {}
    for node, g in seeds:
        outgrads[node] = g if node not in outgrads else outgrads[node] + g
    hook = tracer.instrument()
    for node in toposort([node for node, _ in seeds]):
        prim = node.prim
        if prim is None:
            continue  # a root: its cotangent stays in outgrads for the caller
        g = outgrads.pop(node)
        ans, args, kwargs = node.ans, node.args, node.kwargs
        for argnum, parent in zip(node.argnums, node.parents):
            previous = outgrads.get(parent)
            try:
                if hook is not None:
                    outgrads[parent] = hook.vjp(node, argnum, g, ans, args, previous)
                    continue
                rule = prim.vjps.get(argnum)
                if rule is None:
                    if prim.vjp_argnum is None:
                        raise no_rule_error(prim, argnum, "VJP")
                    out = prim.vjp_argnum(argnum, g, ans, args, kwargs)
                elif kwargs:
                    out = rule(g, ans, *args, **kwargs)
                else:
                    out = rule(g, ans, *args)
            except SavesError as e:
                if e.args[0].startswith("a VJP"):  # not yet explained by an inner pass
                    raise SavesError(guards.saves_complaint(prim, argnum)) from None
                raise
            except Exception as e:
                if prim.name not in str(e):
                    e.add_note(f"(in the VJP rule of {prim.name!r} for argument {argnum})")
                raise
            outgrads[parent] = out if previous is None else previous + out
    return outgrads


def vjp_of(fun, x):
    """Run ``fun(x)`` under a new reverse trace; return ``(vjp, ans)``."""
    leaves, unflatten = tree_flatten(x)
    leaves = [strip_ended(leaf) for leaf in leaves]
    for leaf in leaves:
        guards.check_input(leaf)
    with new_trace() as trace:
        roots = [ReverseNode.root(leaf) for leaf in leaves]
        end = fun(unflatten([Box(leaf, trace, root) for leaf, root in zip(leaves, roots)]))
    guards.check_output(end, "make_vjp")
    out_leaves, out_unflatten = tree_flatten(end)
    traced = [i for i, leaf in enumerate(out_leaves)
              if leaf.__class__ is Box and leaf._trace == trace]
    ans = out_unflatten([leaf._value if leaf.__class__ is Box and leaf._trace == trace else leaf
                         for leaf in out_leaves])
    end_nodes = [out_leaves[i]._node for i in traced]
    if not traced:
        warnings.warn("Output seems independent of input.", stacklevel=3)

    def vjp(g):
        g_leaves = guards.flatten_matching(g, ans, "vjp: the cotangent", "the output")
        outgrads = backward_pass([(node, g_leaves[i]) for node, i in zip(end_nodes, traced)])
        grads = [outgrads[root] if root in outgrads else guards.zeros_like(leaf)
                 for root, leaf in zip(roots, leaves)]
        return unflatten(guards.finished(grads, leaves, map(id, g_leaves)))

    return vjp, ans


def jvp_of(fun, x, v):
    """``(fun(x), J v)`` by one forward pass with tangents riding along."""
    leaves, unflatten = tree_flatten(x)
    leaves = [strip_ended(leaf) for leaf in leaves]
    tangents = guards.flatten_matching(v, x, "make_jvp: the tangent", "the input")
    for leaf in leaves:
        guards.check_input(leaf)
    with new_trace() as trace:
        out = fun(unflatten([Box(leaf, trace, ForwardNode.root(t))
                             for leaf, t in zip(leaves, tangents)]))
    guards.check_output(out, "make_jvp")
    out_leaves, out_unflatten = tree_flatten(out)
    values, out_tangents = [], []
    for leaf in out_leaves:
        if leaf.__class__ is Box and leaf._trace == trace:
            values.append(leaf._value)
            out_tangents.append(leaf._node.tangent)
        else:
            values.append(leaf)
            out_tangents.append(guards.zeros_like(leaf))
    out_tangents = guards.finished(out_tangents, values, map(id, tangents))
    return out_unflatten(values), out_unflatten(out_tangents)


def over_argnum(transform):
    """Make ``transform(unary_fun, x)`` an operator ``op(fun, argnum=0)(*args, **kwargs)``.

    Every differential operator is written for a function of one argument ``x`` (an
    array or a container); this decorator picks ``x`` out of the positional arguments.
    ``argnum`` may be a tuple, in which case ``x`` is the tuple of those arguments
    (autograd's convention).
    """

    @functools.wraps(transform)
    def operator(fun, argnum=0):
        many = not isinstance(argnum, (int, _np.integer))
        positions = tuple(argnum) if isinstance(argnum, (tuple, list)) else (argnum,)
        if not all(isinstance(i, (int, _np.integer)) for i in positions):
            raise TypeError(f"{transform.__name__}: argnum must be an int or a tuple of ints, "
                            f"not {argnum!r}.")

        def apply(*args, **kwargs):
            if not all(-len(args) <= i < len(args) for i in positions):
                raise IndexError(f"{transform.__name__}: argnum={argnum} but the function "
                                 f"was called with {len(args)} positional arguments.")
            chosen = [i % len(args) for i in positions]
            if len(set(chosen)) < len(chosen):  # the last copy would shadow the others
                raise ValueError(f"{transform.__name__}: argnum={argnum} names an argument twice.")

            def unary(x):
                new_args = list(args)
                for i, xi in zip(chosen, x if many else (x,)):
                    new_args[i] = xi
                return fun(*new_args, **kwargs)

            x = tuple(args[i] for i in chosen)
            return transform(unary, x if many else x[0])

        apply.__name__ = f"{transform.__name__}_{getattr(fun, '__name__', 'fun')}"
        apply.__doc__ = f"{transform.__name__} of {getattr(fun, '__name__', 'fun')} " \
                        f"with respect to argument {argnum}."
        return apply

    del operator.__wrapped__  # its signature is (fun, argnum=0), not the transform's
    return operator


@over_argnum
def make_vjp(fun, x):
    """``make_vjp(f, argnum)(*args) -> (vjp, ans)``; ``vjp(g)`` is g^T times the Jacobian."""
    return vjp_of(fun, x)


@over_argnum
def make_jvp(fun, x):
    """``make_jvp(f, argnum)(*args)(v) -> (ans, jvp)``; ``jvp`` is the Jacobian times v."""
    return functools.partial(jvp_of, fun, x)
