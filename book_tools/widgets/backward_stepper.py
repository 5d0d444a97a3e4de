"""The backward-pass stepper of the build-your-own-engine chapter.

A scalar engine's backward pass calls each node's ``_backward`` once, and ``_backward``
adds the node's gradient times a local derivative to each parent.  That is right only
if the node's gradient is *complete* when it is passed on: every consumer of the node
must have been visited before it.  Reverse topological order guarantees this; the two
traversals one writes first do not:

``"depth-first"``
    From the output, each node visited the first time the search reaches it, parents
    in order (the chapter's "naive 2").  Wrong as soon as a shared node is reached
    through one consumer before another consumer has been visited.
``"breadth-first"``
    From the output, level by level.  Right when every path from the output to a
    shared node has the same length (a layered network), wrong when a skip
    connection gives a shared node a short path and a long one.

The small graphs in ``GRAPHS`` are chosen so that each wrong order fails on one of them
and not on another, which is the point: neither naive order is wrong *everywhere*, so
a test on the wrong graph lets it pass.  ``accumulate=False`` adds the other classic
bug, ``=`` instead of ``+=`` in ``_backward``.

``stepper_report(graph, order, accumulate)``
    The computation, as plain data: the visit sequence, the gradient of every node after
    each step, what each node received *after* it was visited (a contribution it never
    passed on), and the final input gradients against ``mini_autograd`` and
    ``autograd``.  The tests check it for every setting.
``build_widget(...)``
    Dropdowns for the graph and the order, a checkbox for the ``=`` bug and a step
    slider over the live picture.
``build_fallback(...)``
    The kernel-free fallback: the correct order beside a wrong one, step by step, as a
    scrubbable player.
"""

import html as _html
import math as _math

from .animation import figure_png
from .html import img_tag

ORDERS = ("topological", "depth-first", "breadth-first")
ENGINES = ("mini_autograd", "autograd")


# ------------------------------------------------------------------------ recording

class _Node:
    """A recorded scalar: its number, its parents and the local derivative to each."""

    def __init__(self, tape, data, parents=(), local=(), op="input"):
        self.data, self.parents, self.local, self.op = float(data), tuple(parents), \
            tuple(local), op
        tape.append(self)
        self._tape = tape

    def _check(self, other, op):
        if not isinstance(other, _Node):
            raise TypeError(f"backward_stepper: {op} of a recorded node with "
                            f"{type(other).__name__}; the stepper's graphs combine "
                            f"recorded nodes only (make the constant an input).")
        return other

    def __add__(self, other):
        other = self._check(other, "+")
        return _Node(self._tape, self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = self._check(other, "*")
        return _Node(self._tape, self.data * other.data, (self, other),
                     (other.data, self.data), "*")


class _Recorder:
    """The namespace ``m`` for recording: ``m.exp`` and ``m.tanh`` of a ``_Node``."""

    def __init__(self):
        self.tape = []

    def exp(self, v):
        e = _math.exp(v.data)
        return _Node(self.tape, e, (v,), (e,), "exp")

    def tanh(self, v):
        t = _math.tanh(v.data)
        return _Node(self.tape, t, (v,), (1.0 - t * t,), "tanh")


def _shared(m, x):
    a = m.exp(x)
    return a + a * x


def _diamond(m, x, y):
    a = x * y
    return m.tanh(a) * m.exp(a)


def _skip(m, x):
    a = m.exp(x)
    return m.tanh(m.tanh(a)) + a


# name: (expression written once for any namespace m, inputs, node names in the order
# the expression creates them, the formula shown in the title).
GRAPHS = {
    "shared": (_shared, (0.5,), ("x", "a", "m", "L"), "L = a + a·x,  a = exp(x)"),
    "diamond": (_diamond, (0.6, -0.8), ("x", "y", "a", "b", "c", "L"),
                "L = b·c,  b = tanh(a),  c = exp(a),  a = x·y"),
    "skip": (_skip, (0.3,), ("x", "a", "b", "c", "L"),
             "L = c + a,  c = tanh(b),  b = tanh(a),  a = exp(x)"),
}


def record(graph):
    """Run ``graph``'s expression on recording nodes: ``(nodes, names, inputs)``.

    ``nodes`` is in creation order, so every node comes after its parents.
    """
    expression, inputs, names, _ = GRAPHS[graph]
    m = _Recorder()
    leaves = [_Node(m.tape, v) for v in inputs]
    expression(m, *leaves)
    if len(m.tape) != len(names):
        raise AssertionError(f"record: graph {graph!r} made {len(m.tape)} nodes but names "
                             f"{len(names)}.")
    return m.tape, dict(zip(m.tape, names)), leaves


# ------------------------------------------------------------------------ the orders

def visit_order(root, order):
    """The nodes in the order a traversal from ``root`` calls their ``_backward``."""
    if order == "topological":
        post, seen, stack = [], set(), [(root, False)]
        while stack:                       # depth-first post-order: parents first
            node, parents_done = stack.pop()
            if parents_done:
                post.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in reversed(node.parents) if p not in seen)
        return post[::-1]
    if order == "depth-first":
        visits, seen = [], set()

        def visit(node):
            if node not in seen:
                seen.add(node)
                visits.append(node)
                for parent in node.parents:
                    visit(parent)
        visit(root)
        return visits
    if order == "breadth-first":
        visits, seen = [root], {root}
        for node in visits:                # the list grows while it is read: a queue
            for parent in node.parents:
                if parent not in seen:
                    seen.add(parent)
                    visits.append(parent)
        return visits
    raise ValueError(f"visit_order: order must be one of {ORDERS}; got {order!r}.")


def _reference_gradients(graph):
    import autograd
    import autograd.numpy as anp

    import mini_autograd
    import mini_autograd.numpy as mnp

    expression, inputs, _, _ = GRAPHS[graph]
    out = {}
    for engine, np, grad in (("mini_autograd", mnp, mini_autograd.grad),
                             ("autograd", anp, autograd.grad)):
        out[engine] = []
        for i in range(len(inputs)):
            def one(v, i=i, np=np):
                args = list(inputs)
                args[i] = v
                return expression(np, *args)
            out[engine].append(float(grad(one)(inputs[i])))
    return out


def stepper_report(graph="shared", order="topological", accumulate=True):
    """Every step of one backward pass, and its outcome against the two engines.

    Returns a dict with keys

    ``graph``, ``order``, ``accumulate``, ``formula``
        The inputs, and the graph's equations for a title.
    ``names``, ``ops``, ``data``, ``parents``
        Per node, in creation order (inputs first): its name, how it was made, its
        value and the names of its parents.
    ``level``
        Per node name, the longest path from an input to it (the drawing's column).
    ``visits``
        The node names in the order their ``_backward`` runs; step ``k`` (1-based)
        visits ``visits[k - 1]``; step 0 is the seed ``dL/dL = 1``.
    ``grads``
        ``grads[k]`` is ``{name: gradient}`` after step ``k`` (``len(visits) + 1`` rows).
    ``passed_on``
        Per node name, the gradient it had when it was visited (what it passed on).
    ``late``
        Per node name, what it received after its visit: a contribution its parents
        never saw (0 for an input, which has no parents).  All zero for the topological
        order.
    ``inputs``, ``final``
        The input names and their final gradients.
    ``reference``
        ``{engine: [dL/d input]}`` from ``mini_autograd`` and ``autograd``.
    ``correct``
        Whether ``final`` matches ``autograd`` to rounding (relative 1e-12).
    """
    if graph not in GRAPHS:
        raise ValueError(f"stepper_report: graph must be one of {tuple(GRAPHS)}; got "
                         f"{graph!r}.")
    if order not in ORDERS:
        raise ValueError(f"stepper_report: order must be one of {ORDERS}; got {order!r}.")
    if not isinstance(accumulate, bool):
        raise TypeError(f"stepper_report: accumulate must be True (+=) or False (=); "
                         f"got {accumulate!r}.")
    nodes, names, leaves = record(graph)
    root = nodes[-1]
    grad = {node: 0.0 for node in nodes}
    grad[root] = 1.0
    rows = [{names[n]: grad[n] for n in nodes}]
    visits = visit_order(root, order)
    passed_on = {}
    for node in visits:
        passed_on[names[node]] = grad[node]
        for parent, local in zip(node.parents, node.local):    # the node's _backward
            contribution = local * grad[node]
            grad[parent] = grad[parent] + contribution if accumulate else contribution
        rows.append({names[n]: grad[n] for n in nodes})
    level = {}
    for node in nodes:                       # creation order: parents already placed
        level[names[node]] = 1 + max((level[names[p]] for p in node.parents), default=-1)
    final = [grad[leaf] for leaf in leaves]
    reference = _reference_gradients(graph)
    correct = all(_math.isclose(f, r, rel_tol=1e-12, abs_tol=1e-300)
                  for f, r in zip(final, reference["autograd"]))
    return {
        "graph": graph, "order": order, "accumulate": accumulate,
        "formula": GRAPHS[graph][3],
        "names": [names[n] for n in nodes], "ops": [n.op for n in nodes],
        "data": [n.data for n in nodes],
        "parents": [[names[p] for p in n.parents] for n in nodes],
        "level": level, "visits": [names[n] for n in visits], "grads": rows,
        "passed_on": passed_on,
        # an input passes nothing on, so what reaches it late is not lost
        "late": {names[n]: rows[-1][names[n]] - passed_on[names[n]] if n.parents else 0.0
                 for n in visits},
        "inputs": [names[leaf] for leaf in leaves], "final": final,
        "reference": reference, "correct": correct,
    }


def n_steps(graph):
    """The number of visits (every order visits every node once): the last step."""
    return len(GRAPHS[graph][2])


# ------------------------------------------------------------------------ drawing

_HALF_BOX = 31      # half a box's width in points: 11 monospace characters at 8 pt, padded

def _positions(report):
    """Columns by level (inputs left, output right), rows spread evenly in a column."""
    columns = {}
    for name in report["names"]:
        columns.setdefault(report["level"][name], []).append(name)
    pos = {}
    for col, members in columns.items():
        for row, name in enumerate(members):
            pos[name] = (col, (len(members) - 1) / 2 - row)
    return pos


def _title(report):
    bug = "" if report["accumulate"] else ", with = for +="
    return f"{report['order']}{bug}"


def step_summary(report, step):
    """One sentence: what step ``step`` did."""
    if not 0 <= step <= len(report["visits"]):
        raise ValueError(f"step_summary: step must be between 0 and "
                         f"{len(report['visits'])}; got {step!r}.")
    if step == 0:
        return "step 0: seed dL/dL = 1, nothing visited yet"
    name = report["visits"][step - 1]
    parents = report["parents"][report["names"].index(name)]
    row = report["grads"][step]
    sent = ", ".join(f"{p} {row[p]:+.3f}" for p in dict.fromkeys(parents))
    text = f"step {step}: visit {name} with gradient {report['passed_on'][name]:+.3f}"
    return text + (f"; parents now {sent}" if parents else "; an input, passes nothing")


def draw(ax, report, step):
    """The graph at ``step``: visited node orange, nodes visited before grey, gradients
    in the boxes, a red 'late' mark on a visited node whose gradient grew afterwards."""
    from matplotlib.patches import FancyArrowPatch

    ax.clear()
    ax.set_axis_off()
    pos = _positions(report)
    row = report["grads"][step]
    done = set(report["visits"][:step])
    current = report["visits"][step - 1] if step else None
    for name, op, value in zip(report["names"], report["ops"], report["data"]):
        late = (name in done and report["parents"][report["names"].index(name)]
                and abs(row[name] - report["passed_on"][name]) > 1e-12)
        face = ("#fdba74" if name == current else "#e5e7eb" if name in done else "white")
        ax.text(
            *pos[name], f"{name} ({op})\nval {value:.3f}\ngrad {row[name]:+.3f}",
            ha="center", va="center", fontsize=8, family="monospace",
            bbox={"boxstyle": "round,pad=0.3", "fc": face,
                  "ec": "#dc2626" if late else "#374151", "lw": 2.0 if late else 1.0})
    for name, parents in zip(report["names"], report["parents"]):
        for p in dict.fromkeys(parents):
            # centre to centre, shortened by half a box (in points, as the boxes are
            # sized by their text): clipping at the boxes' outlines would double the
            # fallback's drawing time.  An edge over a column arcs around it, above or
            # below by the parent's column, so that two such edges do not overlap.
            skips = report["level"][name] - report["level"][p] > 1
            rad = (0.45 if report["level"][p] % 2 else -0.45) if skips else 0.0
            ax.add_patch(FancyArrowPatch(pos[p], pos[name], arrowstyle="-|>",
                                         shrinkA=_HALF_BOX, shrinkB=_HALF_BOX,
                                         connectionstyle=f"arc3,rad={rad}",
                                         mutation_scale=10, color="#6b7280", lw=1.0))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    final = step == len(report["visits"])
    verdict = ""
    if final:
        verdict = "  → correct" if report["correct"] else "  → WRONG"
    ax.set_title(f"{_title(report)}: {' '.join(report['visits'][:step]) or '(seed)'}"
                 f"{verdict}", fontsize=9)


def alt_text(report, step):
    """What the figure shows, in words, for the ``alt`` attribute of its ``<img>``."""
    inputs = ", ".join(f"{n} {g:+.4f}" for n, g in zip(report["inputs"], report["final"]))
    want = ", ".join(f"{n} {g:+.4f}" for n, g in zip(report["inputs"],
                                                     report["reference"]["autograd"]))
    verdict = "agree with autograd" if report["correct"] else f"differ from autograd's {want}"
    return (f"Graph {report['formula']} drawn as boxes with arrows; {_title(report)} "
            f"order, {step_summary(report, step)}. The final input gradients of this "
            f"order, {inputs}, {verdict}.")


def render_png(report, step, dpi=80):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    draw(ax, report, step)
    fig.tight_layout()
    return figure_png(fig, dpi, colours=64)


def picture_html(report, step, dpi=80):
    return (img_tag(render_png(report, step, dpi), alt_text(report, step))
            + f'<div style="font-family:monospace;font-size:12px">'
            f'{_html.escape(step_summary(report, step))}</div>')


# ------------------------------------------------------------------------ live widget

def build_widget(graph="shared", order="depth-first", accumulate=True, step=None):
    """Graph and order dropdowns, a '+=' checkbox, a step slider and the live picture.

    The returned VBox has attributes ``graph``, ``order`` (Dropdowns), ``accumulate``
    (Checkbox), ``step`` (IntSlider), ``panel`` (the HTML widget) and ``report()``.
    """
    import ipywidgets as widgets

    stepper_report(graph, order, accumulate)          # refuse bad settings up front
    last = n_steps(graph)
    step = last if step is None else step
    if not 0 <= step <= last:
        raise ValueError(f"build_widget: step must be between 0 and {last}; got {step!r}.")
    style = {"description_width": "60px"}
    graph_box = widgets.Dropdown(options=list(GRAPHS), value=graph, description="graph",
                                 style=style, layout=widgets.Layout(width="200px"))
    order_box = widgets.Dropdown(options=list(ORDERS), value=order, description="order",
                                 style=style, layout=widgets.Layout(width="230px"))
    accumulate_box = widgets.Checkbox(value=accumulate, description="accumulate (+=)",
                                      indent=False, layout=widgets.Layout(width="150px"))
    step_slider = widgets.IntSlider(value=step, min=0, max=last, description="step",
                                    style=style, layout=widgets.Layout(width="300px"))
    panel = widgets.HTML()
    state = {}

    def update(_change=None):
        report = stepper_report(graph_box.value, order_box.value, accumulate_box.value)
        if state.get("report", {}).get("graph") != report["graph"]:
            step_slider.max = len(report["visits"])    # a new graph: its own step range
        state["report"] = report
        panel.value = picture_html(report, min(step_slider.value, step_slider.max))

    for w in (graph_box, order_box, accumulate_box, step_slider):
        w.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([graph_box, order_box, accumulate_box, step_slider],
                                     layout=widgets.Layout(flex_flow="row wrap")), panel])
    box.graph, box.order, box.accumulate, box.step, box.panel = (
        graph_box, order_box, accumulate_box, step_slider, panel)
    box.report = lambda: state["report"]
    return box


# ------------------------------------------------------------------------ fallback

def build_fallback(graph="shared", wrong_order="depth-first", dpi=72, fps=1,
                   name="backward_stepper"):
    """The topological order beside ``wrong_order`` on ``graph``, one frame per visit.

    Raises AssertionError if the topological order disagrees with either engine.
    Deterministic output; returns ``IPython.display.HTML``.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from . import scrubbable_animation

    if wrong_order not in ORDERS[1:]:
        raise ValueError(f"build_fallback: wrong_order must be one of {ORDERS[1:]}; got "
                         f"{wrong_order!r}.")
    right = stepper_report(graph, "topological")
    if not right["correct"] or any(
            not _math.isclose(f, r, rel_tol=1e-12)
            for f, r in zip(right["final"], right["reference"]["mini_autograd"])):
        raise AssertionError(f"build_fallback: the topological order disagrees with the "
                             f"engines on {graph!r}: {right['final']} against "
                             f"{right['reference']}.")
    wrong = stepper_report(graph, wrong_order)
    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png",
                         "font.size": 9}):
        fig, axes = plt.subplots(1, 2, figsize=(9.6, 1.9), facecolor="white")

        def update(step):
            draw(axes[0], right, step)
            draw(axes[1], wrong, step)
            return []

        update(1)
        fig.tight_layout()
        # steps 1 to the last: step 0, the seed alone, is the same in both panels and
        # one frame fewer keeps the chapter's run time down
        return scrubbable_animation(fig, update, range(1, len(right["visits"]) + 1),
                                    fps=fps, name=name, colours=64)
