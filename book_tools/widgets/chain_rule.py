"""The chain-rule widget of chapter 1: one backward signal per hidden unit, used three times.

The network has a scalar input, two hidden ReLU units and a scalar output::

    z_j   = u_j * x + b_j              (j = 1, 2)
    h_j   = relu(z_j) = max(z_j, 0)
    y_hat = v_1 * h_1 + v_2 * h_2 + c
    L     = (y_hat - y)**2 / 2

It is the chapter's two-layer network with ``W1 = u`` (a 2x1 matrix), ``b1 = b``,
``w2 = v`` and ``b2 = c``.

The point it makes: the backward pass computes ONE number per hidden unit,

    delta_j = dL/dz_j = (y_hat - y) * v_j * relu'(z_j),

and that number is reused three times, because ``z_j = u_j x + b_j`` has three inputs:
``dL/du_j = delta_j * x``, ``dL/db_j = delta_j`` and ``delta_j * u_j``, unit j's share
of ``dL/dx``.  Enumerating the paths from each input to ``L`` would recompute the common
factor ``(y_hat - y) v_j relu'(z_j)`` once per path; computing it once is the saving that
makes backpropagation cheap.

The functions, one job each:

``chain_rule_report(x, u, b, v, c, y)``
    The computation, as plain data: the forward values, the output error
    ``e = y_hat - y``, the backward signals ``delta_j`` with their three uses, and the
    gradient of ``L`` with respect to ``x`` and every parameter computed three ways (by
    hand from ``delta``, by ``mini_autograd`` and by HIPS ``autograd``).  This is what the
    tests check over the whole range of every control.
``sweep_report(sweep, values, ...)``
    ``L`` as a function of one control, the tangent slope (the report's gradient) at each
    of ``values``, and the kinks: where a unit switches (``z_j = 0``), with the slopes
    just left and right of it, which differ.
``chain_rule_widget(...)``
    The live version: ipywidgets sliders for ``x``, ``u`` and ``v``, a picture of ``L``
    against one control with its tangent line, and HTML tables recomputed from
    ``chain_rule_report`` whenever a slider moves.
``chain_rule_animation(...)``
    The kernel-free fallback for the static HTML book: ``sweep_report`` drawn for a sweep
    of one control (loss, tangent line, delta and its three uses, gradients three ways),
    rendered once into a scrubbable player.

The ReLU is written ``where(z > 0, z, 0)``, so its derivative at exactly ``z = 0`` is 0
in the hand computation and in both engines.
"""

import html as _html

import numpy as _np

from . import html_table

# name: (min, max, step, default).  The sliders and the tests both read this table.
CONTROLS = {
    "x": (-2.0, 2.0, 0.1, 0.3),
    "u1": (-2.0, 2.0, 0.1, 1.0),
    "u2": (-2.0, 2.0, 0.1, -1.0),
    "v1": (-2.0, 2.0, 0.1, 1.5),
    "v2": (-2.0, 2.0, 0.1, 2.0),
}
# Values held fixed in the widget (arguments of every function below).
FIXED = {"b": (0.5, 0.5), "c": 0.0, "y": 1.0}
# The order of the gradient entries in every report and table.
GRAD_NAMES = ("x", "u1", "u2", "b1", "b2", "v1", "v2", "c")
ENGINES = ("chain rule", "mini_autograd", "autograd")
_PRETTY = {"x": "x", "u1": "u₁", "u2": "u₂", "b1": "b₁", "b2": "b₂", "v1": "v₁",
           "v2": "v₂", "c": "c"}
# How far from a kink the one-sided slopes are taken: L is a quadratic in any one control
# on each side of a kink, so the slope there is within (curvature x 1e-9) of the limit.
_ONE_SIDED = 1e-9


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


def chain_rule_report(x=CONTROLS["x"][3], u=(CONTROLS["u1"][3], CONTROLS["u2"][3]),
                      b=FIXED["b"], v=(CONTROLS["v1"][3], CONTROLS["v2"][3]), c=FIXED["c"],
                      y=FIXED["y"]):
    """Forward values, backward signals and gradients (three ways) for one setting.

    Returns a dict with keys

    ``forward``
        ``z``, ``h`` (arrays of 2), ``y_hat``, ``L`` (floats).
    ``error``
        ``e = y_hat - y = dL/dy_hat`` (float), the signal entering the backward pass.
    ``relu_slope``, ``active``
        ``relu'(z_j)`` (array of 2, 0 or 1) and ``z_j > 0`` (array of 2 booleans).
    ``delta``
        ``delta_j = dL/dz_j = e * v_j * relu'(z_j)`` (array of 2).
    ``uses``
        One dict per hidden unit ``j``: ``unit`` (1 or 2), ``delta``, and the three
        places it is used, ``du = delta_j * x``, ``db = delta_j`` and
        ``dx_share = delta_j * u_j`` (unit j's term of ``dL/dx``), plus ``active``.
    ``gradients``
        ``{engine: {name: float}}`` for the engines in ``ENGINES`` and the names in
        ``GRAD_NAMES``.  ``"chain rule"`` is assembled from ``e`` and ``delta`` alone.
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

    # backward pass: one signal at the output, then one per hidden unit
    error = y_hat - y                           # dL/dy_hat
    relu_slope = active.astype(float)           # relu'(z), 0 at z = 0
    delta = error * v * relu_slope              # dL/dz_j: dL/dy_hat * dy_hat/dh_j * dh_j/dz_j
    uses = [{"unit": j + 1, "delta": float(delta[j]) + 0.0,
             "du": float(delta[j] * x) + 0.0,        # dz_j/du_j = x
             "db": float(delta[j]) + 0.0,            # dz_j/db_j = 1
             "dx_share": float(delta[j] * u[j]) + 0.0,  # dz_j/dx = u_j
             "active": bool(active[j])} for j in range(2)]
    by_hand = [sum(use["dx_share"] for use in uses),   # x feeds both z_1 and z_2
               *(use["du"] for use in uses),
               *(use["db"] for use in uses),
               *(error * h),                           # dL/dv_j = e * h_j
               error]                                  # dL/dc = e
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
        "error": float(error),
        "relu_slope": relu_slope,
        "active": active,
        "delta": delta,
        "uses": uses,
        "gradients": gradients,
        "max_discrepancy": discrepancy,
    }


# ------------------------------------------------------------------------ one control

def _setting(controls, b, c, y):
    """chain_rule_report's arguments for a dict of the five controls."""
    s = controls
    return s["x"], (s["u1"], s["u2"]), b, (s["v1"], s["v2"]), c, y


def _checked_controls(caller, sweep=None, **given):
    if sweep is not None and sweep not in CONTROLS:
        raise ValueError(f"{caller}: sweep must be one of {list(CONTROLS)}; got {sweep!r}.")
    unknown = set(given) - set(CONTROLS)
    if unknown:
        raise ValueError(f"{caller}: unknown controls {sorted(unknown)}; "
                         f"the controls are {list(CONTROLS)}.")
    return {k: float(given.get(k, spec[3])) for k, spec in CONTROLS.items()}


def loss_along(sweep, values, b=FIXED["b"], c=FIXED["c"], y=FIXED["y"], **controls):
    """``L`` (plain NumPy, no derivatives) at each of ``values`` of the control ``sweep``."""
    s = _checked_controls("loss_along", sweep, **controls)
    return _np.array([float(toy_loss(_np, *(_np.asarray(a, dtype=float) for a in
                                           _setting(dict(s, **{sweep: float(t)}), b, c, y))))
                      for t in _np.asarray(values, dtype=float)])


def kinks(sweep, b=FIXED["b"], **controls):
    """The values of the control ``sweep`` at which a hidden unit switches (``z_j = 0``).

    Returns ``[(unit, value), ...]``.  ``z_j = u_j x + b_j`` depends on ``x``, ``u_j`` and
    ``b_j`` only, so sweeping ``v_j`` (or ``x`` with ``u_j = 0``) crosses no kink.
    """
    s = _checked_controls("kinks", sweep, **controls)
    out = []
    for j in (1, 2):
        other = {"x": s[f"u{j}"], f"u{j}": s["x"]}.get(sweep)
        if other:  # None (no dependence) or 0 (z_j constant along the sweep): no kink
            out.append((j, -b[j - 1] / other))
    return out


def sweep_report(sweep, values, b=FIXED["b"], c=FIXED["c"], y=FIXED["y"], **controls):
    """``L`` and its tangent slope at each of ``values`` of one control, and the kinks.

    The other controls take their defaults unless given in ``controls``.  Returns

    ``values``, ``reports``
        The swept values and ``chain_rule_report`` at each.
    ``L``, ``slope``
        Arrays: the loss and the tangent slope ``dL/d(sweep)`` (the chain-rule entry
        of each report; the tests check it against the engines and against central
        differences of ``L``).
    ``kinks``
        One dict per switch of a unit inside the range of ``values``: ``unit``, ``at``
        (the value of the control), ``left`` and ``right`` (the slopes of ``L`` just
        before and after it, from the reports at ``at -+ 1e-9``).
    """
    s = _checked_controls("sweep_report", sweep, **controls)
    values = _np.asarray(values, dtype=float)

    def report_at(t):
        return chain_rule_report(*_setting(dict(s, **{sweep: float(t)}), b, c, y))

    reports = [report_at(t) for t in values]
    found = []
    for unit, at in kinks(sweep, b, **s):
        if values.min() <= at <= values.max():
            left, right = (report_at(at + side * _ONE_SIDED)["gradients"]["chain rule"][sweep]
                           for side in (-1, 1))
            found.append({"unit": unit, "at": float(at), "left": left, "right": right})
    return {
        "sweep": sweep, "controls": s, "fixed": {"b": b, "c": c, "y": y},
        "values": values, "reports": reports,
        "L": _np.array([r["forward"]["L"] for r in reports]),
        "slope": _np.array([r["gradients"]["chain rule"][sweep] for r in reports]),
        "kinks": found,
    }


def tangent(value, loss, slope, half_width):
    """The two end points ``(ts, Ls)`` of the tangent segment at ``(value, loss)``."""
    ts = _np.array([value - half_width, value + half_width])
    return ts, loss + slope * (ts - value)


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
        ["z₁", "z₂", "h₁", "h₂", "ŷ", "L", "ē = ŷ − y"],
        [([*map(_num, f["z"]), *map(_num, f["h"]), _num(f["y_hat"]), _num(f["L"]),
           _num(report["error"])], "")])
    v = report["inputs"]["v"]
    rows = []
    for use, slope in zip(report["uses"], report["relu_slope"]):
        j = use["unit"]
        rows.append(([f"unit {j} ({'on' if use['active'] else 'off'})", _num(v[j - 1]),
                      f"{slope:.0f}", _num(use["delta"]), _num(use["du"]), _num(use["db"]),
                      _num(use["dx_share"])], "" if use["active"] else _OFF))
    g = report["gradients"]["chain rule"]
    rows.append((["", "", "", "", "", "∂L/∂x = sum:", _num(g["x"])], " font-weight: bold;"))
    signals = _table(["", "vⱼ", "relu′", "δⱼ", "∂L/∂uⱼ = δⱼx", "∂L/∂bⱼ = δⱼ", "δⱼuⱼ"],
                     rows)
    grads = report["gradients"]
    grad_rows = [([f"∂L/∂{_PRETTY[n]}", *(_num(grads[e][n]) for e in ENGINES)], "")
                 for n in GRAD_NAMES]
    verdict = ("all three agree" if report["max_discrepancy"] < 1e-9
               else f"DISAGREE by {report['max_discrepancy']:.2e}")
    return (f'<div style="{_STYLE}">'
            f"<b>Forward pass</b>{forward}"
            f"<b>Backward signal δⱼ = ∂L/∂zⱼ = ē·vⱼ·relu′(zⱼ): computed once, "
            f"used three times</b>"
            f"{signals}"
            f"<b>Gradients</b> ({verdict}, largest difference "
            f"{report['max_discrepancy']:.1e}){_table(['gradient', *ENGINES], grad_rows)}"
            f"</div>")


def tangent_svg(sweep_data, index, width=360, height=170):
    """``L`` against the swept control as an inline SVG, with the tangent at ``index``.

    No TeX and no image file, so it renders in any notebook front end and in the
    static book's widget snapshot; ``role="img"`` and ``aria-label`` describe it.
    """
    t, loss = sweep_data["values"], sweep_data["L"]
    t0, L0, s0 = t[index], loss[index], sweep_data["slope"][index]
    pad_l, pad_r, pad_t, pad_b = 34, 8, 8, 22
    lo, hi = float(t.min()), float(t.max())
    top = max(float(loss.max()), 1e-9) * 1.25
    bottom = -0.1 * top

    def px(a, b_):
        return (pad_l + (a - lo) / (hi - lo) * (width - pad_l - pad_r),
                height - pad_b - (b_ - bottom) / (top - bottom) * (height - pad_t - pad_b))

    curve = " ".join("{:.1f},{:.1f}".format(*px(a, b_)) for a, b_ in zip(t, loss))
    ts, Ls = tangent(t0, L0, s0, 0.2 * (hi - lo))
    (x1, y1), (x2, y2) = px(ts[0], Ls[0]), px(ts[1], Ls[1])
    cx, cy = px(t0, L0)
    name = _PRETTY[sweep_data["sweep"]]
    marks = ""
    for k in sweep_data["kinks"]:
        kx, _ = px(k["at"], 0.0)
        marks += (f'<line x1="{kx:.1f}" y1="{pad_t}" x2="{kx:.1f}" y2="{height - pad_b}" '
                  f'stroke="#9ca3af" stroke-dasharray="2,3"/>'
                  f'<text x="{kx + 3:.1f}" y="{pad_t + 10}" font-size="10" fill="#6b7280">'
                  f'unit {k["unit"]}</text>')
    label = (f"Loss L against {name} from {lo:g} to {hi:g}; at {name} = {t0:+.2f}, "
             f"L = {L0:.3f} and the tangent line has slope dL/d{name} = {s0:+.3f}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img" aria-label="{_html.escape(label)}" '
            f'style="background:#ffffff; font-family: sans-serif;">'
            f'<rect x="{pad_l}" y="{pad_t}" width="{width - pad_l - pad_r}" '
            f'height="{height - pad_t - pad_b}" fill="none" stroke="#d1d5db"/>'
            f"{marks}"
            f'<polyline points="{curve}" fill="none" stroke="#1f77b4" stroke-width="2"/>'
            f'<clipPath id="chain-rule-plot"><rect x="{pad_l}" y="{pad_t}" '
            f'width="{width - pad_l - pad_r}" height="{height - pad_t - pad_b}"/></clipPath>'
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="#d62728" stroke-width="2" clip-path="url(#chain-rule-plot)"/>'
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#d62728"/>'
            f'<text x="{width / 2:.0f}" y="{height - 5}" font-size="11" '
            f'text-anchor="middle">{name}</text>'
            f'<text x="4" y="{pad_t + 10}" font-size="11">L</text>'
            f'<text x="{width - pad_r - 4}" y="{pad_t + 24}" font-size="11" fill="#d62728" '
            f'text-anchor="end">tangent slope ∂L/∂{name} = {s0:+.3f}</text></svg>')


# ------------------------------------------------------------------------ live widget

def chain_rule_widget(b=FIXED["b"], c=FIXED["c"], y=FIXED["y"], against="x", **initial):
    """Sliders for x, u1, u2, v1, v2 above a tangent picture and tables, live.

    ``initial`` overrides slider start values (e.g. ``x=0.3``); ``against`` is the
    control on the picture's horizontal axis (a dropdown changes it).  The returned
    VBox has extra attributes for programmatic use: ``sliders`` (name -> FloatSlider),
    ``against`` (the Dropdown), ``picture`` and ``table`` (the HTML widgets).
    """
    import ipywidgets as widgets

    _checked_controls("chain_rule_widget", against, **initial)
    sliders = {}
    for name, (lo, hi, step, default) in CONTROLS.items():
        sliders[name] = widgets.FloatSlider(
            value=float(initial.get(name, default)), min=lo, max=hi, step=step,
            description=_PRETTY.get(name, name), continuous_update=True,
            readout_format=".1f", layout=widgets.Layout(width="300px"))
    menu = widgets.Dropdown(options=[(_PRETTY[n], n) for n in CONTROLS], value=against,
                            description="L against", layout=widgets.Layout(width="180px"))
    picture = widgets.HTML()
    table = widgets.HTML()

    def update(_change=None):
        s = {k: w.value for k, w in sliders.items()}
        report = chain_rule_report(*_setting(s, b, c, y))
        table.value = report_html(report)
        lo, hi, step, _ = CONTROLS[menu.value]
        grid = _np.round(_np.linspace(lo, hi, round((hi - lo) / step) * 2 + 1), 6)
        # the curve at the grid, and the point and tangent at the slider's own value
        values = _np.union1d(grid, [s[menu.value]])
        data = _cheap_sweep(menu.value, values, s, b, c, y)
        index = int(_np.searchsorted(values, s[menu.value]))
        data["slope"][index] = report["gradients"]["chain rule"][menu.value]
        picture.value = tangent_svg(data, index)

    for w in (*sliders.values(), menu):
        w.observe(update, names="value")
    update()
    fixed = widgets.HTML(f"<small>fixed: b = ({b[0]:g}, {b[1]:g}), c = {c:g}, "
                         f"target y = {y:g}</small>")
    # stacked, not side by side: the book's text column is narrow
    box = widgets.VBox([*sliders.values(), fixed, menu, picture, table])
    box.sliders, box.against, box.picture, box.table = sliders, menu, picture, table
    return box


def _cheap_sweep(sweep, values, controls, b, c, y):
    """The curve for the live picture: L from plain NumPy (the engines are not needed)."""
    return {"sweep": sweep, "values": values,
            "L": loss_along(sweep, values, b, c, y, **controls),
            "slope": _np.zeros(len(values)),
            "kinks": [{"unit": j, "at": at} for j, at in kinks(sweep, b, **controls)
                      if values.min() <= at <= values.max()]}


# ------------------------------------------------------------------------ fallback

def _frame_text(r, sweep, value):
    """The middle panel: e, delta_j and its three uses, as monospace text."""
    z = r["forward"]["z"]
    g = r["gradients"]["chain rule"]
    label = _PRETTY[sweep]
    lines = [f"{label} = {value:+.2f}   ŷ = {r['forward']['y_hat']:+.3f}",
             f"ē = ŷ − y = {r['error']:+.3f}", "",
             "unit".ljust(6) + "zⱼ".rjust(6) + "relu′".rjust(7) + "δⱼ".rjust(9)]
    for use, zj, slope in zip(r["uses"], z, r["relu_slope"]):
        lines.append(f"{use['unit']:<6}{zj:+6.2f}{slope:7.0f}{use['delta']:+9.3f}"
                     + ("" if use["active"] else "  off"))
    rows = [("∂L/∂uⱼ = δⱼ·x", "du"), ("∂L/∂bⱼ = δⱼ", "db"), ("δⱼ·uⱼ (to ∂L/∂x)", "dx_share")]
    lines += ["", "δⱼ used three times:".ljust(19) + "j=1".rjust(8) + "j=2".rjust(8)]
    lines += [text.ljust(19) + "".join(f"{w[key]:+8.3f}" for w in r["uses"])
              for text, key in rows]
    lines.append(f"∂L/∂x = sum of δⱼ·uⱼ = {g['x'] + 0.0:+.3f}")
    return "\n".join(lines)


def sweep_figure(data, dpi=56):
    """The fallback's figure for ``sweep_report`` data: returns ``(fig, update)``.

    Left: ``L`` against the swept control, the tangent line at the current value (its
    slope is the gradient) and, at each kink, a dotted line labelled with the slopes on
    either side.  Middle: ``e``, ``delta_j`` and its three uses.  Right: every gradient
    as a bar (by hand via delta) with markers for mini_autograd and autograd.
    """
    import matplotlib.pyplot as plt

    sweep, values, reports = data["sweep"], data["values"], data["reports"]
    label = _PRETTY[sweep]
    lo, hi = float(values.min()), float(values.max())
    fine = _np.linspace(lo, hi, 241)
    curve = loss_along(sweep, fine, **data["fixed"], **data["controls"])

    fig = plt.figure(figsize=(10.4, 3.4), dpi=dpi, facecolor="white")
    grid = fig.add_gridspec(1, 3, width_ratios=[1.0, 1.25, 0.7], wspace=0.25)
    ax_loss, ax_tab, ax_bar = (fig.add_subplot(grid[0, k]) for k in range(3))

    ax_loss.plot(fine, curve, color="#1f77b4", lw=1.8)
    top = 1.15 * float(curve.max()) + 1e-9
    ax_loss.set_ylim(-0.08 * top, top)
    ax_loss.set_xlim(lo, hi)
    for k, kink in enumerate(data["kinks"]):
        ax_loss.axvline(kink["at"], color="#6b7280", ls=":", lw=1.2)
        ax_loss.annotate(f"unit {kink['unit']} switches:\nslope {kink['left']:+.2f}"
                         f" → {kink['right']:+.2f}", (kink["at"], 0.98 - 0.2 * k),
                         xycoords=("data", "axes fraction"), ha="center", va="top",
                         fontsize=8.5, color="#374151",
                         bbox={"fc": "white", "ec": "none", "pad": 0.5})
    line, = ax_loss.plot([], [], color="#d62728", lw=1.6, gid="tangent")
    point, = ax_loss.plot([], [], "o", color="#d62728", ms=6)
    slope_text = ax_loss.text(0.03, 0.04, "", transform=ax_loss.transAxes, fontsize=9,
                              color="#d62728")
    ax_loss.set_xlabel(label)
    ax_loss.set_ylabel("L")
    ax_loss.set_title(f"L and its tangent as {label} moves", fontsize=10.5)

    ax_tab.axis("off")
    ax_tab.set_title("backward signal δⱼ = ∂L/∂zⱼ = ē·vⱼ·relu′(zⱼ)", fontsize=10.5)
    text = ax_tab.text(-0.06, 0.97, "", family="monospace", fontsize=10, va="top",
                       ha="left", transform=ax_tab.transAxes)

    ypos = _np.arange(len(GRAD_NAMES))[::-1]
    bars = ax_bar.barh(ypos, _np.zeros(len(GRAD_NAMES)), color="#bfdbfe",
                       edgecolor="#1f77b4", label="by hand (δ)")
    mini, = ax_bar.plot([], [], "o", color="#d62728", ms=4, label="mini_autograd")
    ag, = ax_bar.plot([], [], "x", color="#111827", ms=7, mew=1.4, label="autograd")
    ax_bar.set_yticks(ypos, [f"∂L/∂{_PRETTY[n]}" for n in GRAD_NAMES])
    ax_bar.axvline(0, color="#6b7280", lw=0.8)
    limit = max(abs(r["gradients"]["chain rule"][n]) for r in reports for n in GRAD_NAMES)
    ax_bar.set_xlim(-1.15 * limit - 1e-9, 1.15 * limit + 1e-9)
    ax_bar.set_ylim(-0.7, len(GRAD_NAMES) - 0.3)
    ax_bar.set_title("gradients, three ways", fontsize=10.5)
    ax_bar.legend(loc="upper right", bbox_to_anchor=(1.05, -0.1), ncol=3, fontsize=8,
                  frameon=False, handlelength=1.0, handletextpad=0.3, columnspacing=0.5)

    def update(k):
        r, value = reports[k], values[k]
        loss, slope = data["L"][k], data["slope"][k]
        ts, Ls = tangent(value, loss, slope, 0.22 * (hi - lo))
        line.set_data(ts, Ls)
        point.set_data([value], [loss])
        slope_text.set_text(f"tangent slope ∂L/∂{label} = {slope + 0.0:+.3f}")
        text.set_text(_frame_text(r, sweep, value))
        for bar, n in zip(bars, GRAD_NAMES):
            bar.set_width(r["gradients"]["chain rule"][n])
        mini.set_data([r["gradients"]["mini_autograd"][n] for n in GRAD_NAMES], ypos)
        ag.set_data([r["gradients"]["autograd"][n] for n in GRAD_NAMES], ypos)
        return []

    update(0)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.2, top=0.9)
    return fig, update


def chain_rule_animation(sweep="x", n_frames=15, span=None, b=FIXED["b"], c=FIXED["c"],
                         y=FIXED["y"], dpi=72, fps=3, name="chain_rule", **fixed):
    """A scrubbable player sweeping one control across ``span`` (default: its slider range).

    Each frame is ``sweep_figure`` at one value: the loss with the tangent line there
    (dotted lines and the one-sided slopes where a ReLU switches), the backward signals
    ``delta_j`` with their three uses, and every gradient three ways.  The other
    controls sit at their defaults unless given in ``fixed``.  Deterministic output;
    returns ``IPython.display.HTML``.
    """
    import matplotlib as mpl

    from . import scrubbable_animation

    _checked_controls("chain_rule_animation", sweep, **fixed)
    lo, hi = span if span is not None else CONTROLS[sweep][:2]
    data = sweep_report(sweep, _np.linspace(lo, hi, n_frames), b, c, y, **fixed)
    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png",
                         "font.size": 9.5}):
        fig, update = sweep_figure(data, dpi=dpi)
        # 32 colours: the frames are lines, text and flat fills (see palette_png)
        return scrubbable_animation(fig, update, range(n_frames), fps=fps, name=name,
                                    colours=32)

