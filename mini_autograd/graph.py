"""Record a function's computational graph and draw it with matplotlib.

``trace_graph(f, *args)`` runs ``f`` once under reverse mode and then one backward pass,
and returns a `Graph`: one `GraphNode` per recorded operation (and one per input), with
its operation name, shape, value and the gradient of the output with respect to it.
``draw_graph(graph)`` lays the nodes out left to right by depth (inputs at the left,
the output at the right) and draws them, optionally annotated with values and
gradients.  Only operations that depend on the inputs are recorded: constants are
folded into the operations that use them, which is exactly what the backward pass sees.
"""

import dataclasses
import inspect

import numpy as _np

from .core import ReverseNode, backward_pass, toposort
from .guards import check_output
from .tracer import Box, Instrument, new_trace


class _KeptNode(ReverseNode):
    """A reverse-mode node that keeps every value, whatever its primitive's ``saves=``,
    so that the drawing can show them.  Nodes take the class of their parents, so a
    trace started from `_KeptNode` roots records only these."""

    __slots__ = ()

    def __init__(self, prim, ans, args, kwargs, argnums, parents):
        super().__init__(prim, ans, list(args), kwargs, argnums, parents)
        self.args, self.ans = args, ans


class _CotangentRecorder(Instrument):
    """Plugged in during the backward pass: remembers the cotangent each node hands on."""

    def __init__(self):
        self.grads = {}

    def vjp(self, node, argnum, g, ans, args, total):
        self.grads[node] = g
        return super().vjp(node, argnum, g, ans, args, total)


@dataclasses.dataclass
class GraphNode:
    index: int
    op: str          # primitive name, or the input's name
    shape: tuple
    value: object
    grad: object
    parents: list    # indices of the nodes this one was computed from
    is_input: bool = False
    depth: int = 0


@dataclasses.dataclass
class Graph:
    nodes: list
    output: int

    def __len__(self):
        return len(self.nodes)

    def ops(self):
        """The operation names in evaluation order (inputs excluded)."""
        return [n.op for n in self.nodes if not n.is_input]


def trace_graph(fun, *args, argnums=None):
    """Run ``fun(*args)`` (scalar output) and return its `Graph` with values and gradients.

    ``argnums`` selects the arguments to treat as inputs (default: all float arguments).
    """
    names = _arg_names(fun, len(args))
    if argnums is None:
        argnums = [i for i, a in enumerate(args) if _np.issubdtype(_np.result_type(a), _np.floating)]
    boxed = list(args)
    roots = {}
    with new_trace() as trace:
        for i in argnums:
            root = _KeptNode.root(args[i])
            roots[root] = names[i]
            boxed[i] = Box(args[i], trace, root)
        out = fun(*boxed)
    check_output(out, "trace_graph")
    if not (isinstance(out, Box) and out._trace == trace):
        raise ValueError("trace_graph: the output does not depend on the inputs.")
    if _np.size(out._value) != 1:
        raise ValueError(f"trace_graph needs a scalar output; got shape {_np.shape(out._value)}.")
    with _CotangentRecorder() as recorder:
        grads = backward_pass([(out._node, _np.ones_like(out._value))])
    grads.update(recorder.grads)
    order = list(reversed(toposort([out._node])))
    for root in roots:  # inputs the output does not depend on are still shown
        if root not in grads:
            order.insert(0, root)
    index = {node: i for i, node in enumerate(order)}
    nodes = []
    for node in order:
        is_input = node.prim is None
        parents = [index[p] for p in node.parents]
        depth = 1 + max((nodes[p].depth for p in parents), default=-1)
        nodes.append(GraphNode(
            index=index[node], op=roots.get(node, "input") if is_input else node.prim.name,
            shape=_np.shape(node.ans), value=node.ans, grad=grads.get(node, 0.0),
            parents=parents, is_input=is_input, depth=depth))
    # put each input just left of its first consumer, so edges stay short
    for node in nodes:
        if node.is_input:
            consumers = [n.depth for n in nodes if node.index in n.parents]
            node.depth = min(consumers) - 1 if consumers else 0
    return Graph(nodes=nodes, output=index[out._node])


def _arg_names(fun, n):
    try:
        params = [p.name for p in inspect.signature(fun).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i}" for i in range(n)]


def _fmt(x):
    x = _np.asarray(x, dtype=float) + 0.0  # + 0.0 turns -0.0 into 0.0
    if x.size == 1:
        return f"{float(x.reshape(())):.3g}"
    if x.size <= 3:
        return "[" + ", ".join(f"{v + 0.0:.2g}" for v in x.ravel()) + "]"
    return f"|·|={_np.linalg.norm(x):.3g}"


def draw_graph(graph, ax=None, show_values=False, show_grads=False, labels=None,
               max_columns=None):
    """Draw ``graph`` left to right; returns the matplotlib Figure.

    ``labels`` may map node indices to names (e.g. ``{3: "z1"}``) shown above the op.
    ``max_columns`` wraps a long graph into several rows of at most that many columns
    (read each row left to right, then the next row), so it fits a narrow page.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    labels = labels or {}
    by_depth = {}
    for node in graph.nodes:
        by_depth.setdefault(node.depth, []).append(node)
    first = min(by_depth)
    columns = max(by_depth) - first + 1
    per_row = columns if not max_columns else min(max_columns, columns)
    rows = -(-columns // per_row)
    tallest = max(len(v) for v in by_depth.values())
    band = tallest + 0.9  # vertical space taken by one row of the wrapped layout
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(6, 1.9 * per_row), max(2.4, 1.2 * tallest * rows)),
                               facecolor="white")
    else:
        fig = ax.figure
    pos = {}
    for depth, nodes in by_depth.items():
        row, col = divmod(depth - first, per_row)
        for k, node in enumerate(nodes):
            pos[node.index] = (col * 2.4, (len(nodes) - 1) / 2 - k - row * band)
    for node in graph.nodes:
        for p in node.parents:
            (x0, y0), (x1, y1) = pos[p], pos[node.index]
            ax.add_patch(FancyArrowPatch((x0 + 0.86, y0), (x1 - 0.86, y1), arrowstyle="-|>",
                                         mutation_scale=12, color="#555555", lw=1.2))
    for node in graph.nodes:
        x, y = pos[node.index]
        if node.is_input:
            face = "#dbeafe"
        elif node.index == graph.output:
            face = "#fde68a"
        else:
            face = "#f3f4f6"
        ax.add_patch(FancyBboxPatch((x - 0.85, y - 0.38), 1.7, 0.76,
                                    boxstyle="round,pad=0.02,rounding_size=0.12",
                                    facecolor=face, edgecolor="#111827", lw=1.2))
        lines = []
        if node.index in labels:
            lines.append(labels[node.index])
        lines.append(node.op + (f" {node.shape}" if node.shape else ""))
        if show_values:
            lines.append("value " + _fmt(node.value))
        if show_grads:
            lines.append("grad " + _fmt(node.grad))
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=8, color="#111827")
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
