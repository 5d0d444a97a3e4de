"""The softmax-gradient widget of the softmax/cross-entropy chapter.

A classifier with four classes outputs logits ``z``; at temperature ``T`` its
probabilities are ``p = softmax(z / T)`` and, for the true class ``c`` (one-hot ``y``),
the loss is the cross-entropy ``L = -log p_c``.  The gradient of ``L`` with respect to
the logits is ``(p - y) / T``.  Three functions, one job each:

``softmax_report(logits, true_class, temperature)``
    The computation, as plain data: ``p``, ``y``, ``p - y``, the loss, and the gradient
    with respect to the logits three ways (the formula ``(p - y) / T``,
    ``mini_autograd`` and HIPS ``autograd``).  Everything goes through the log-sum-exp
    form, so it stays finite at any logit the sliders reach (``z / T`` up to +-2000).
    This is what the tests check over the whole range of every control.
``build_widget(...)``
    The live version: a slider per logit, a "shift all" slider that adds one constant
    to every logit, a temperature slider and a true-class dropdown, and an HTML panel
    (bars and numbers) recomputed whenever one moves.
``build_fallback(...)``
    The kernel-free fallback for the static HTML book: the same quantities drawn for a
    sweep of one logit (or of the temperature), rendered once into a scrubbable player.
"""

import html as _html

import numpy as _np

from . import html_table

N_CLASSES = 4
# name: (min, max, step, default).  The sliders and the tests both read this table.
CONTROLS = {
    "z0": (-20.0, 20.0, 0.1, 2.0),
    "z1": (-20.0, 20.0, 0.1, 1.0),
    "z2": (-20.0, 20.0, 0.1, 0.1),
    "z3": (-20.0, 20.0, 0.1, -1.0),
}
LOGIT_NAMES = tuple(CONTROLS)
# The temperature slider is logarithmic: T = 10**e with e in [min, max] in steps of step.
TEMPERATURE_LOG10 = (-2.0, 1.0, 0.05)   # T from 0.01 to 10
DEFAULT_TEMPERATURE = 1.0
# The "shift all" slider adds one constant c to every logit: (min, max, step, default).
# p, the loss and the gradient ignore it; the unshifted formula and log(softmax) do not.
SHIFT = (-10.0, 10.0, 0.5, 0.0)
DEFAULT_CLASS = 0
ENGINES = ("(p - y)/T", "mini_autograd", "autograd")
# exp(x) overflows float64 for x above log(largest float) = 709.78...
EXP_OVERFLOW = float(_np.log(_np.finfo(float).max))


def cross_entropy_at_temperature(np, logsumexp, z, y, temperature):
    """-sum(y * log softmax(z / T)), written once for any NumPy-like module ``np``.

    ``log softmax(s) = s - logsumexp(s)`` never forms ``exp`` of a large number and
    never takes the log of an underflowed probability.
    """
    s = z / temperature
    return -np.sum(y * (s - logsumexp(s)))


def _checked(logits, true_class, temperature):
    z = _np.asarray(logits, dtype=float)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"softmax_report: logits must be a 1-D array of at least 2 "
                         f"numbers (one per class); got shape {z.shape}.")
    if not _np.all(_np.isfinite(z)):
        raise ValueError(f"softmax_report: logits must be finite; got {z}.")
    if isinstance(true_class, bool) or int(true_class) != true_class \
            or not 0 <= int(true_class) < z.size:
        raise ValueError(f"softmax_report: true_class must be an integer in "
                         f"[0, {z.size}); got {true_class!r}.")
    temperature = float(temperature)
    if not (_np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"softmax_report: temperature must be a positive number; "
                         f"got {temperature!r}.")
    return z, int(true_class), temperature


def _naive_is_finite(z, c, temperature):
    """Whether the textbook formula exp(s) / sum(exp(s)), then log, gives a finite loss."""
    with _np.errstate(all="ignore"):
        e = _np.exp(z / temperature)
        loss = -_np.log(e[c] / _np.sum(e))
    return bool(_np.isfinite(loss))


def _log_of_softmax(z, c, temperature):
    """-log(softmax(z / T))[c] with the max-shifted softmax, and whether its gradient
    (by mini_autograd) is finite: the chapter's lesson, a stable softmax followed by
    ``log`` still breaks once p_c is below the smallest doubles."""
    import warnings

    import mini_autograd
    import mini_autograd.numpy as mnp
    from mini_autograd import nn

    def loss(zz):
        return -mnp.log(nn.softmax(zz / temperature)[c])

    with warnings.catch_warnings(), _np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(loss(z))
        gradient = _np.asarray(mini_autograd.grad(loss)(z), dtype=float)
    return value, bool(_np.all(_np.isfinite(gradient)))


def softmax_report(logits, true_class=DEFAULT_CLASS, temperature=DEFAULT_TEMPERATURE):
    """Probabilities, loss and gradient (three ways) for one setting of the controls.

    Returns a dict with keys

    ``logits``, ``true_class``, ``temperature``, ``scaled`` (``z / T``)
        The inputs (as a float array, int and float) and the scaled logits.
    ``p``, ``y``, ``p_minus_y``
        ``softmax(z / T)``, the one-hot label and their difference (arrays).
    ``loss``
        ``-log p_c``, computed as ``-(log softmax(z / T))_c`` (a finite float).
    ``grad``
        ``{engine: array}`` for the engines in ``ENGINES``: the gradient of the loss
        with respect to the logits ``z``.  ``"(p - y)/T"`` is the closed form.
    ``max_discrepancy``
        The largest absolute difference between any two engines' entries.
    ``naive_finite``
        Whether the unshifted formula ``log(exp(s_c) / sum(exp(s)))`` would have given
        a finite loss here (it overflows once some ``z / T`` exceeds ``EXP_OVERFLOW``).
    ``log_of_softmax``, ``log_of_softmax_grad_finite``
        ``-log(softmax(z / T))[c]`` with the stable (max-shifted) softmax, which is
        ``inf`` once ``p_c`` underflows, and whether its gradient is finite (it is
        ``nan`` once ``-1/p_c`` overflows, while the value still looks right).
    """
    import autograd
    import autograd.numpy as anp
    import autograd.scipy.special as asp

    import mini_autograd
    import mini_autograd.numpy as mnp
    from mini_autograd.scipy.special import logsumexp as mlse

    z, c, temperature = _checked(logits, true_class, temperature)
    y = _np.zeros(z.size)
    y[c] = 1.0
    s = z / temperature
    m = s.max()
    log_p = (s - m) - _np.log(_np.sum(_np.exp(s - m)))   # log softmax, shifted by the max
    p = _np.exp(log_p)
    loss = float(-log_p[c])

    def engine_grad(np, grad, logsumexp):
        g = grad(lambda zz: cross_entropy_at_temperature(np, logsumexp, zz, y, temperature))
        return _np.asarray(g(z), dtype=float)

    grads = {
        "(p - y)/T": (p - y) / temperature,
        "mini_autograd": engine_grad(mnp, mini_autograd.grad, mlse),
        "autograd": engine_grad(anp, autograd.grad, asp.logsumexp),
    }
    table = _np.stack([grads[e] for e in ENGINES])
    return {
        "logits": z, "true_class": c, "temperature": temperature, "scaled": s,
        "p": p, "y": y, "p_minus_y": p - y, "loss": loss,
        "grad": grads,
        "max_discrepancy": float(_np.max(table.max(axis=0) - table.min(axis=0))),
        "naive_finite": _naive_is_finite(z, c, temperature),
        **dict(zip(("log_of_softmax", "log_of_softmax_grad_finite"),
                   _log_of_softmax(z, c, temperature))),
    }


# ------------------------------------------------------------------------ as HTML

_STYLE = ("font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; "
          "font-size: 13px; color: #111827; background: #ffffff; padding: 6px 8px;")
_TABLE = "border-collapse: collapse; margin: 4px 0 8px 0;"
_CELL = "border: 1px solid #d1d5db; padding: 2px 6px; text-align: right;"
_HEAD = _CELL + " background: #f3f4f6; text-align: center;"
_BAR_W = 110  # pixels for the full range of a bar


def _num(value, fmt="+.4f"):
    return format(float(value) + 0.0, fmt)  # + 0.0 turns -0.0 into 0.0


def _bar(value, signed, color):
    """An inline bar: [0, 1] from the left edge, or [-1, 1] from the centre."""
    value = float(_np.clip(value, -1.0, 1.0))
    if signed:
        half = _BAR_W / 2
        width = abs(value) * half
        left = half if value >= 0 else half - width
        axis = (f'<div style="position:absolute; left:{half:.0f}px; top:0; bottom:0; '
                f'width:1px; background:#6b7280;"></div>')
    else:
        width, left, axis = value * _BAR_W, 0.0, ""
    return (f'<div style="position:relative; width:{_BAR_W}px; height:12px; '
            f'background:#f3f4f6;">{axis}<div style="position:absolute; left:{left:.1f}px; '
            f'top:1px; height:10px; width:{width:.1f}px; background:{color};"></div></div>')


def _table(header, rows):
    return html_table(header, rows, _TABLE, _CELL, _HEAD, escape=False)


def report_html(report):
    """The report as two small HTML tables with bars (no TeX, so it renders anywhere)."""
    c, temperature = report["true_class"], report["temperature"]
    rows = []
    for i in range(report["p"].size):
        style = " font-weight: bold;" if i == c else ""
        rows.append(([f"{i}" + (" (true)" if i == c else ""), _num(report["logits"][i], "+.1f"),
                      _num(report["p"][i], ".4f"), _bar(report["p"][i], False, "#1f77b4"),
                      f"{report['y'][i]:.0f}",
                      _num(report["p_minus_y"][i]),
                      _bar(report["p_minus_y"][i], True, "#d62728")], style))
    probs = _table(["class", "logit z", "p", "p = softmax(z/T)", "y", "p − y", "p − y (bar)"],
                   rows)
    grad_rows = [([f"∂L/∂z{i}", *(_html.escape(_num(report["grad"][e][i])) for e in ENGINES)],
                  "") for i in range(report["p"].size)]
    grads = _table(["gradient", *ENGINES], grad_rows)
    scale = max(1.0, float(_np.max(_np.abs(report["grad"]["autograd"]))))
    verdict = ("all three agree" if report["max_discrepancy"] <= 1e-9 * scale
               else f"DISAGREE by {report['max_discrepancy']:.2e}")
    top = float(_np.max(report["scaled"]))
    naive = ("finite here" if report["naive_finite"] else
             "gives inf/nan here (exp overflows or every exp underflows)")
    log_of = (f"{report['log_of_softmax']:.4f}" if _np.isfinite(report["log_of_softmax"])
              else "inf")
    log_grad = ("finite" if report["log_of_softmax_grad_finite"]
                else "NaN (−1/p overflowed)")
    return (f'<div style="{_STYLE}">'
            f"<b>T = {temperature:.3g}, true class {c}: loss L = −log p{c} = "
            f"{report['loss']:.4f}</b>{probs}"
            f"<b>Gradient of L with respect to the logits</b> ({verdict}, largest "
            f"difference {report['max_discrepancy']:.1e}){grads}"
            f"<small>largest z/T = {top:+.1f}; the unshifted exp(z/T)/sum formula is "
            f"{naive}. log(softmax(z/T)), the log of the stable softmax, gives "
            f"L = {log_of} with gradient {log_grad}. The log-sum-exp form used above is "
            f"finite for every setting.</small></div>")


# ------------------------------------------------------------------------ live widget

def build_widget(logits=None, true_class=DEFAULT_CLASS, temperature=DEFAULT_TEMPERATURE):
    """Logit sliders, a temperature slider, a true-class dropdown and a live report.

    The returned HBox has extra attributes for programmatic use: ``sliders`` (name ->
    slider, the logits ``z0..z3`` and ``"T"``), ``shift`` (the "shift all" slider: the
    report uses ``z + shift``), ``true_class`` (the Dropdown) and ``panel`` (the HTML
    widget showing the report).
    """
    import ipywidgets as widgets

    start = [CONTROLS[n][3] for n in LOGIT_NAMES] if logits is None else list(logits)
    if len(start) != N_CLASSES:
        raise ValueError(f"build_widget: the widget has {N_CLASSES} logit sliders; got "
                         f"{len(start)} starting logits.")
    _checked(start, true_class, temperature)
    sliders = {}
    for name, value in zip(LOGIT_NAMES, start):
        lo, hi, step, _ = CONTROLS[name]
        sliders[name] = widgets.FloatSlider(
            value=float(value), min=lo, max=hi, step=step, description=f"z{name[1:]}",
            continuous_update=True, readout_format=".1f",
            layout=widgets.Layout(width="320px"))
    e_lo, e_hi, e_step = TEMPERATURE_LOG10
    sliders["T"] = widgets.FloatLogSlider(
        value=float(temperature), base=10, min=e_lo, max=e_hi, step=e_step,
        description="T", continuous_update=True, readout_format=".3g",
        layout=widgets.Layout(width="320px"))
    s_lo, s_hi, s_step, s_default = SHIFT
    shift = widgets.FloatSlider(value=s_default, min=s_lo, max=s_hi, step=s_step,
                                description="shift all", continuous_update=True,
                                readout_format="+.1f", layout=widgets.Layout(width="320px"))
    dropdown = widgets.Dropdown(options=[(f"class {i}", i) for i in range(N_CLASSES)],
                                value=int(true_class), description="true class",
                                layout=widgets.Layout(width="220px"))
    panel = widgets.HTML()

    def update(_change=None):
        z = [sliders[n].value + shift.value for n in LOGIT_NAMES]
        panel.value = report_html(softmax_report(z, dropdown.value, sliders["T"].value))

    for w in (*sliders.values(), shift, dropdown):
        w.observe(update, names="value")
    update()
    controls = widgets.VBox([*(sliders[n] for n in LOGIT_NAMES), shift, sliders["T"],
                             dropdown],
                            layout=widgets.Layout(width="340px", min_width="340px"))
    # side by side when there is room (a notebook), panel below the sliders otherwise
    box = widgets.HBox([controls, panel], layout=widgets.Layout(flex_flow="row wrap"))
    box.sliders = sliders
    box.shift = shift
    box.true_class = dropdown
    box.panel = panel
    return box


# ------------------------------------------------------------------------ fallback

def build_fallback(sweep="z0", n_frames=16, span=None, logits=None,
                   true_class=DEFAULT_CLASS, temperature=DEFAULT_TEMPERATURE, dpi=72, fps=3,
                   name="softmax_gradient"):
    """A scrubbable player sweeping one logit (``"z0"``..``"z3"``) or the temperature (``"T"``).

    Each frame shows ``p`` and the one-hot ``y`` as bars, the gradient ``(p - y)/T`` as
    bars with markers for mini_autograd's and autograd's values, and the loss along the
    sweep.  The default span is a logit's slider range cut to [-6, 6] (where the picture
    changes) or the temperature slider's full range.  Raises AssertionError if, in any
    frame, the three gradients disagree.  Deterministic output; returns
    ``IPython.display.HTML``.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from . import scrubbable_animation

    if sweep not in (*LOGIT_NAMES, "T"):
        raise ValueError(f"build_fallback: sweep must be one of {[*LOGIT_NAMES, 'T']}.")
    base = [CONTROLS[n][3] for n in LOGIT_NAMES] if logits is None else list(logits)
    _checked(base, true_class, temperature)
    if sweep == "T":
        lo, hi = span if span is not None else (10 ** TEMPERATURE_LOG10[0],
                                                10 ** TEMPERATURE_LOG10[1])
        values = _np.geomspace(lo, hi, n_frames)
        fine = _np.geomspace(lo, hi, 241)
    else:
        lo, hi = span if span is not None else (max(CONTROLS[sweep][0], -6.0),
                                                min(CONTROLS[sweep][1], 6.0))
        values = _np.linspace(lo, hi, n_frames)
        fine = _np.linspace(lo, hi, 241)

    def setting(val):
        z, t = list(base), float(temperature)
        if sweep == "T":
            t = float(val)
        else:
            z[LOGIT_NAMES.index(sweep)] = float(val)
        return z, int(true_class), t

    reports = [softmax_report(*setting(v)) for v in values]
    for r in reports:  # every gradient drawn is checked: the engines and (p - y)/T agree
        scale = max(1.0, float(_np.max(_np.abs(r["grad"]["autograd"]))))
        if r["max_discrepancy"] > 1e-9 * scale:
            raise AssertionError(f"build_fallback: gradients disagree by "
                                 f"{r['max_discrepancy']:.2e} at {sweep} = {r['logits']}, "
                                 f"T = {r['temperature']}.")
    curve = []
    for v in fine:
        z, c, t = setting(v)
        s = _np.asarray(z) / t
        curve.append(-((s[c] - s.max()) - _np.log(_np.sum(_np.exp(s - s.max())))))
    label = "T" if sweep == "T" else f"z{sweep[1:]}"
    k = len(base)
    xs = _np.arange(k)

    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png",
                         "font.size": 10}):
        fig = plt.figure(figsize=(8.6, 3.0), facecolor="white")
        grid = fig.add_gridspec(1, 3, width_ratios=[1.0, 1.0, 0.9], wspace=0.32)
        ax_p, ax_g, ax_l = (fig.add_subplot(grid[0, j]) for j in range(3))

        bars_p = ax_p.bar(xs - 0.2, _np.zeros(k), width=0.4, color="#1f77b4", label="p")
        ax_p.bar(xs + 0.2, reports[0]["y"], width=0.4, color="white", edgecolor="#111827",
                 hatch="//", label="y (one-hot)")
        ax_p.set_ylim(0, 1.08)
        ax_p.set_xticks(xs, [f"class {i}" for i in xs])
        ax_p.legend(loc="upper right", fontsize=8.5, frameon=False)
        title_p = ax_p.set_title("", fontsize=10.5)

        bars_g = ax_g.bar(xs, _np.zeros(k), width=0.6, color="#fca5a5", edgecolor="#d62728",
                          label="(p − y)/T")
        mini, = ax_g.plot([], [], "o", color="#d62728", ms=6, label="mini_autograd")
        ag, = ax_g.plot([], [], "x", color="#111827", ms=8, mew=1.5, label="autograd")
        ax_g.axhline(0, color="#6b7280", lw=0.8)
        limit = max(float(_np.max(_np.abs(r["grad"]["autograd"]))) for r in reports)
        ax_g.set_ylim(-1.15 * limit, 1.15 * limit)
        ax_g.set_xticks(xs, [f"∂L/∂z{i}" for i in xs])
        ax_g.set_title("gradient w.r.t. the logits", fontsize=10.5)
        ax_g.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8.5,
                    frameon=False, handlelength=1.0, handletextpad=0.3, columnspacing=0.8)

        ax_l.plot(fine, curve, color="#1f77b4", lw=1.8)
        if sweep == "T":
            ax_l.set_xscale("log")
        point, = ax_l.plot([], [], "o", color="#d62728", ms=7)
        ax_l.set_xlabel(label)
        ax_l.set_ylabel("L = −log p_c")
        ax_l.set_title(f"loss as {label} moves", fontsize=10.5)

        def update(j):
            r, val = reports[j], values[j]
            for bar, v in zip(bars_p, r["p"]):
                bar.set_height(v)
            title_p.set_text(f"{label} = {val:.3g}:  p = softmax(z/T)")
            for bar, v in zip(bars_g, r["grad"]["(p - y)/T"]):
                bar.set_height(v)
            mini.set_data(xs, r["grad"]["mini_autograd"])
            ag.set_data(xs, r["grad"]["autograd"])
            point.set_data([val], [r["loss"]])
            return []

        update(0)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.25, top=0.9)
        return scrubbable_animation(fig, update, range(n_frames), fps=fps, name=name,
                                    colours=64)
