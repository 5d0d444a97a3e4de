"""The chain-rule widget of chapter 1: every local derivative of a tiny network, live.

The network has a scalar input, two hidden ReLU units and a scalar output::

    z_j   = u_j * x + b_j              (j = 1, 2)
    h_j   = relu(z_j) = max(z_j, 0)
    y_hat = v_1 * h_1 + v_2 * h_2 + c
    L     = (y_hat - y)**2 / 2

It is the chapter's two-layer network with ``W1 = u`` (a 2x1 matrix), ``b1 = b``,
``w2 = v`` and ``b2 = c``.  Three functions, one job each:

``chain_rule_report(x, u, b, v, c, y)``
    The computation, as plain data: the forward values, every local derivative on
    the two paths from ``x`` to ``L``, their products, and the gradient of ``L``
    with respect to ``x`` and every parameter computed three ways (the chain rule
    written out by hand, ``mini_autograd`` and HIPS ``autograd``).  This is what the
    tests check over the whole range of every control.
``chain_rule_widget(...)``
    The live version: ipywidgets sliders for ``x``, ``u`` and ``v`` and an HTML
    table that is recomputed from ``chain_rule_report`` whenever a slider moves.
``chain_rule_animation(...)``
    The kernel-free fallback for the static HTML book: the same numbers drawn for a
    sweep of one control, rendered once into a scrubbable player.

The ReLU is written ``where(z > 0, z, 0)``, so its derivative at exactly ``z = 0`` is 0
in the hand computation and in both engines.
"""

import numpy as _np

from . import html_table

# name: (min, max, step, default).  The sliders and the tests both read this table.
CONTROLS = {
    "x": (-2.0, 2.0, 0.1, 1.0),
    "u1": (-2.0, 2.0, 0.1, 1.0),
    "u2": (-2.0, 2.0, 0.1, -1.0),
    "v1": (-2.0, 2.0, 0.1, 1.0),
    "v2": (-2.0, 2.0, 0.1, -0.5),
}
# Values held fixed in the widget (arguments of every function below).
FIXED = {"b": (0.5, 0.5), "c": 0.0, "y": 1.0}
# The order of the gradient entries in every report and table.
GRAD_NAMES = ("x", "u1", "u2", "b1", "b2", "v1", "v2", "c")
ENGINES = ("chain rule", "mini_autograd", "autograd")
_PRETTY = {"x": "x", "u1": "u₁", "u2": "u₂", "b1": "b₁", "b2": "b₂", "v1": "v₁",
           "v2": "v₂", "c": "c"}


def toy_loss(np, x, u, b, v, c, y):
    """The loss of the two-unit network, written once for any NumPy-like module ``np``."""
    z = u * x + b
    h = np.where(z > 0, z, 0.0)
    y_hat = np.sum(v * h) + c
    return 0.5 * (y_hat - y) ** 2


def _pair(value, name):
    arr = _np.asarray(value, dtype=float)
    if arr.shape != (2,):
        raise ValueError(f"chain_rule_report: {name} must hold 2 numbers (one per hidden "
                         f"unit); got shape {arr.shape}.")
    return arr


def _engine_grads(np, grad, x, u, b, v, c, y):
    params = (float(x), u, b, v, float(c))
    g = grad(lambda p: toy_loss(np, *p, y))(params)
    gx, gu, gb, gv, gc = (_np.asarray(t, dtype=float) for t in g)
    return dict(zip(GRAD_NAMES, [float(gx), *map(float, gu), *map(float, gb),
                                 *map(float, gv), float(gc)]))


def chain_rule_report(x, u=(1.0, -1.0), b=FIXED["b"], v=(1.0, -0.5), c=FIXED["c"],
                      y=FIXED["y"]):
    """Forward values, local derivatives and gradients (three ways) for one setting.

    Returns a dict with keys

    ``forward``
        ``z``, ``h`` (arrays of 2), ``y_hat``, ``L`` (floats).
    ``local``
        The local derivative of every edge on the paths ``x -> z_j -> h_j -> y_hat -> L``:
        ``dL/dy_hat`` (float), ``dy_hat/dh``, ``dh/dz``, ``dz/dx`` (arrays of 2).
    ``paths``
        One dict per hidden unit ``j``: ``unit`` (1 or 2), ``factors`` (the four local
        derivatives, output end first), ``product`` (their product) and ``active``.
    ``gradients``
        ``{engine: {name: float}}`` for the engines in ``ENGINES`` and the names in
        ``GRAD_NAMES``.  ``"chain rule"`` is computed from the local derivatives alone.
    ``max_discrepancy``
        The largest absolute difference between any two engines' entries.
    """
    import autograd
    import autograd.numpy as anp

    import mini_autograd
    import mini_autograd.numpy as mnp

    x, c, y = float(x), float(c), float(y)
    u, b, v = _pair(u, "u"), _pair(b, "b"), _pair(v, "v")

    # forward pass
    z = u * x + b
    active = z > 0
    h = _np.where(active, z, 0.0)
    y_hat = float(_np.sum(v * h) + c)
    loss = 0.5 * (y_hat - y) ** 2

    # local derivatives, one per edge of the graph
    dL_dyhat = y_hat - y               # d/dy_hat of (y_hat - y)^2 / 2
    dyhat_dh = v.copy()                # y_hat = sum_j v_j h_j + c
    dh_dz = active.astype(float)       # relu'(z), 0 at z = 0
    dz_dx = u.copy()                   # z_j = u_j x + b_j

    paths = []
    for j in range(2):
        factors = (dL_dyhat, float(dyhat_dh[j]), float(dh_dz[j]), float(dz_dx[j]))
        paths.append({"unit": j + 1, "factors": factors, "product": float(_np.prod(factors)),
                      "active": bool(active[j])})

    delta = dL_dyhat * dyhat_dh * dh_dz          # dL/dz_j, the signal reaching unit j
    by_hand = [sum(p["product"] for p in paths),  # dL/dx: sum over the two paths
               *(delta * x),                      # dL/du_j = dL/dz_j * dz_j/du_j
               *delta,                            # dL/db_j = dL/dz_j * 1
               *(dL_dyhat * h),                   # dL/dv_j = dL/dy_hat * h_j
               dL_dyhat]                          # dL/dc
    gradients = {
        "chain rule": dict(zip(GRAD_NAMES, (float(g) + 0.0 for g in by_hand))),
        "mini_autograd": _engine_grads(mnp, mini_autograd.grad, x, u, b, v, c, y),
        "autograd": _engine_grads(anp, autograd.grad, x, u, b, v, c, y),
    }
    table = _np.array([[gradients[e][n] for n in GRAD_NAMES] for e in ENGINES])
    discrepancy = float(_np.max(table.max(axis=0) - table.min(axis=0)))
    return {
        "inputs": {"x": x, "u": u, "b": b, "v": v, "c": c, "y": y},
        "forward": {"z": z, "h": h, "y_hat": y_hat, "L": float(loss)},
        "local": {"dL/dy_hat": float(dL_dyhat), "dy_hat/dh": dyhat_dh, "dh/dz": dh_dz,
                  "dz/dx": dz_dx},
        "paths": paths,
        "gradients": gradients,
        "max_discrepancy": discrepancy,
    }


# ------------------------------------------------------------------------ as HTML

_STYLE = ("font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; "
          "font-size: 13px; color: #111827; background: #ffffff; padding: 6px 8px;")
_TABLE = "border-collapse: collapse; margin: 4px 0 10px 0;"
_CELL = "border: 1px solid #d1d5db; padding: 2px 8px; text-align: right;"
_HEAD = _CELL + " background: #f3f4f6; text-align: center;"
_OFF = " color: #9ca3af;"


def _num(value):
    return f"{value + 0.0:+.3f}"  # + 0.0 turns -0.0 into 0.0


def _table(header, rows):
    return html_table(header, rows, _TABLE, _CELL, _HEAD, escape=True)


def report_html(report):
    """The report as three small HTML tables (no TeX, so it renders anywhere)."""
    f = report["forward"]
    forward = _table(
        ["z₁", "z₂", "h₁", "h₂", "ŷ", "L"],
        [([_num(f["z"][0]), _num(f["z"][1]), _num(f["h"][0]), _num(f["h"][1]),
           _num(f["y_hat"]), _num(f["L"])], "")])
    path_rows = []
    for p in report["paths"]:
        j = p["unit"]
        state = "on" if p["active"] else "off"
        path_rows.append(([f"unit {j} ({state})",
                           *map(_num, p["factors"]), _num(p["product"])],
                          "" if p["active"] else _OFF))
    total = sum(p["product"] for p in report["paths"])
    path_rows.append((["sum = ∂L/∂x", "", "", "", "", _num(total)], " font-weight: bold;"))
    paths = _table(["path via", "∂L/∂ŷ", "∂ŷ/∂hⱼ", "∂hⱼ/∂zⱼ", "∂zⱼ/∂x", "product"], path_rows)
    g = report["gradients"]
    grad_rows = [([f"∂L/∂{_PRETTY[n]}", *(_num(g[e][n]) for e in ENGINES)], "")
                 for n in GRAD_NAMES]
    grads = _table(["gradient", *ENGINES], grad_rows)
    verdict = ("all three agree" if report["max_discrepancy"] < 1e-9
               else f"DISAGREE by {report['max_discrepancy']:.2e}")
    return (f'<div style="{_STYLE}">'
            f"<b>Forward pass</b>{forward}"
            f"<b>Local derivatives on the paths x → zⱼ → hⱼ → ŷ → L</b>{paths}"
            f"<b>Gradients</b> ({verdict}, largest difference "
            f"{report['max_discrepancy']:.1e}){grads}</div>")


# ------------------------------------------------------------------------ live widget

def chain_rule_widget(b=FIXED["b"], c=FIXED["c"], y=FIXED["y"], **initial):
    """Sliders for x, u1, u2, v1, v2 above a table recomputed whenever one moves.

    ``initial`` overrides slider start values (e.g. ``x=0.3``).  The returned VBox has
    two extra attributes for programmatic use: ``sliders`` (name -> FloatSlider) and
    ``table`` (the HTML widget showing the report).
    """
    import ipywidgets as widgets

    unknown = set(initial) - set(CONTROLS)
    if unknown:
        raise ValueError(f"chain_rule_widget: unknown controls {sorted(unknown)}; "
                         f"the sliders are {list(CONTROLS)}.")
    sliders = {}
    for name, (lo, hi, step, default) in CONTROLS.items():
        sliders[name] = widgets.FloatSlider(
            value=float(initial.get(name, default)), min=lo, max=hi, step=step,
            description=_PRETTY.get(name, name), continuous_update=True,
            readout_format=".1f", layout=widgets.Layout(width="300px"))
    table = widgets.HTML()

    def update(_change=None):
        s = {k: w.value for k, w in sliders.items()}
        report = chain_rule_report(s["x"], (s["u1"], s["u2"]), b, (s["v1"], s["v2"]), c, y)
        table.value = report_html(report)

    for w in sliders.values():
        w.observe(update, names="value")
    update()
    fixed = widgets.HTML(f"<small>fixed: b = ({b[0]:g}, {b[1]:g}), c = {c:g}, "
                         f"target y = {y:g}</small>")
    # stacked, not side by side: the book's text column is narrow
    box = widgets.VBox([*sliders.values(), fixed, table])
    box.sliders = sliders
    box.table = table
    return box


# ------------------------------------------------------------------------ fallback

def _kinks(sweep, s, b):
    """Values of the swept control at which some hidden unit switches (z_j = 0)."""
    out = []
    for j in (0, 1):
        if sweep == "x" and s[f"u{j + 1}"] != 0:
            out.append((j + 1, -b[j] / s[f"u{j + 1}"]))
        elif sweep == f"u{j + 1}" and s["x"] != 0:
            out.append((j + 1, -b[j] / s["x"]))
    return out


def chain_rule_animation(sweep="x", n_frames=15, span=None, b=FIXED["b"], c=FIXED["c"],
                         y=FIXED["y"], dpi=64, fps=3, name="chain_rule", **fixed):
    """A scrubbable player sweeping one control across ``span`` (default: its slider range).

    Each frame shows the loss along the sweep (dotted lines where a ReLU switches),
    the local derivatives on both paths from x to L with their products, and every
    gradient as a bar (chain rule) with markers for mini_autograd and autograd.  The
    other controls sit at their defaults unless given in ``fixed``.  Deterministic
    output; returns ``IPython.display.HTML``.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from . import scrubbable_animation

    if sweep not in CONTROLS:
        raise ValueError(f"chain_rule_animation: sweep must be one of {list(CONTROLS)}.")
    unknown = set(fixed) - set(CONTROLS)
    if unknown:
        raise ValueError(f"chain_rule_animation: unknown controls {sorted(unknown)}.")
    s = {k: float(fixed.get(k, v[3])) for k, v in CONTROLS.items()}
    lo, hi = span if span is not None else CONTROLS[sweep][:2]
    values = _np.linspace(lo, hi, n_frames)

    def setting(val):
        t = dict(s, **{sweep: float(val)})
        return t["x"], (t["u1"], t["u2"]), b, (t["v1"], t["v2"]), c, y

    reports = [chain_rule_report(*setting(val)) for val in values]
    fine = _np.linspace(lo, hi, 241)
    curve = [toy_loss(_np, *(_np.asarray(a, dtype=float) for a in setting(val)))
             for val in fine]
    label = _PRETTY.get(sweep, sweep)

    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png",
                         "font.size": 10}):
        fig = plt.figure(figsize=(10.0, 3.3), facecolor="white")
        grid = fig.add_gridspec(1, 3, width_ratios=[0.9, 1.35, 0.95], wspace=0.28)
        ax_loss, ax_tab, ax_bar = (fig.add_subplot(grid[0, k]) for k in range(3))

        ax_loss.plot(fine, curve, color="#1f77b4", lw=1.8)
        for unit, where in _kinks(sweep, s, b):
            if lo <= where <= hi:
                ax_loss.axvline(where, color="#6b7280", ls=":", lw=1.2)
                ax_loss.annotate(f"unit {unit}\nswitches", (where, 0.98),
                                 xycoords=("data", "axes fraction"), ha="center",
                                 va="top", fontsize=9, color="#374151",
                                 bbox={"fc": "white", "ec": "none", "pad": 0.5})
        point, = ax_loss.plot([], [], "o", color="#d62728", ms=7)
        ax_loss.set_xlabel(label)
        ax_loss.set_ylabel("L")
        ax_loss.set_title(f"loss as {label} moves", fontsize=11)

        ax_tab.axis("off")
        ax_tab.set_title("local derivatives on the two paths x → L", fontsize=11)
        text = ax_tab.text(-0.02, 0.97, "", family="monospace", fontsize=10.5, va="top",
                           ha="left", transform=ax_tab.transAxes)

        ypos = _np.arange(len(GRAD_NAMES))[::-1]
        bars = ax_bar.barh(ypos, _np.zeros(len(GRAD_NAMES)), color="#bfdbfe",
                           edgecolor="#1f77b4", label="chain rule")
        mini, = ax_bar.plot([], [], "o", color="#d62728", ms=5, label="mini_autograd")
        ag, = ax_bar.plot([], [], "x", color="#111827", ms=8, mew=1.5, label="autograd")
        ax_bar.set_yticks(ypos, [f"∂L/∂{_PRETTY[n]}" for n in GRAD_NAMES])
        ax_bar.axvline(0, color="#6b7280", lw=0.8)
        limit = max(abs(r["gradients"]["chain rule"][n]) for r in reports
                    for n in GRAD_NAMES)
        ax_bar.set_xlim(-1.15 * limit - 1e-9, 1.15 * limit + 1e-9)
        ax_bar.set_ylim(-0.7, len(GRAD_NAMES) - 0.3)
        ax_bar.set_title("gradients, three ways", fontsize=11)
        ax_bar.legend(loc="upper right", bbox_to_anchor=(1.02, -0.1), ncol=3, fontsize=8.5,
                      frameon=False, handlelength=1.0, handletextpad=0.3, columnspacing=0.6)

        def update(k):
            r, val = reports[k], values[k]
            point.set_data([val], [r["forward"]["L"]])
            z = r["forward"]["z"]
            lines = [f"{label} = {val:+.2f}",
                     f"z = ({z[0]:+.2f}, {z[1]:+.2f})   ŷ = {r['forward']['y_hat']:+.3f}",
                     f"∂L/∂ŷ = ŷ − y = {r['local']['dL/dy_hat']:+.3f}", "",
                     f"{'unit':>4} {'∂ŷ/∂h':>6} {'∂h/∂z':>6} {'∂z/∂x':>6} {'product':>8}"]
            for p in r["paths"]:
                _, v_j, m_j, u_j = p["factors"]
                lines.append(f"{p['unit']:>4} {v_j:+6.2f} {m_j:6.0f} {u_j:+6.2f} "
                             f"{p['product'] + 0.0:+8.3f}" + ("" if p["active"] else " off"))
            lines += ["", "∂L/∂x = sum of the products",
                      f"      = {r['gradients']['chain rule']['x'] + 0.0:+.4f}"]
            text.set_text("\n".join(lines))
            for bar, n in zip(bars, GRAD_NAMES):
                bar.set_width(r["gradients"]["chain rule"][n])
            mini.set_data([r["gradients"]["mini_autograd"][n] for n in GRAD_NAMES], ypos)
            ag.set_data([r["gradients"]["autograd"][n] for n in GRAD_NAMES], ypos)
            return []

        update(0)
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.2, top=0.89)
        return scrubbable_animation(fig, update, range(n_frames), fps=fps, name=name)
