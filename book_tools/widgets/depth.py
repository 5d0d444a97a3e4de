"""The Jacobian-product explorer of the vanishing-gradients chapter.

A network of ``D`` layers of width ``n`` ends in the loss ``L = mean_b r . h_D``, so the
adjoint at the top is the same fixed cotangent ``r / B`` for every example, and the
adjoint of layer ``l``, ``dL/dh_l``, is that cotangent carried back through ``D - l``
layer Jacobians.  Its norm against ``l`` is the picture of vanishing (or exploding)
gradients.  Two kinds of layer share one set of weights:

* plain (``alpha = 0``): ``h_l = act(W_l h_{l-1})``, Jacobian ``diag(act'(z_l)) W_l``;
* residual (``alpha > 0``): ``h_l = h_{l-1} + alpha W_l act(h_{l-1})``, Jacobian
  ``I + alpha W_l diag(act'(h_{l-1}))``.

``alpha = 0`` is therefore not "a residual block with a zero branch" (that would be the
identity) but the network without skip connections: the control switches the skip on
as soon as it leaves 0.

The theory line.  Mean-field theory treats the slopes as independent of the adjoint and
the units of a layer's activation input as Gaussian, ``u ~ N(0, q_l)``.  Then one layer
multiplies the expected squared adjoint norm by

    chi_l = sigma_w^2 E[act'(u)^2]                  (plain)
    chi_l = 1 + alpha^2 sigma_w^2 E[act'(u)^2]      (residual),

and the line drawn is ``prod_{k > l} chi_k^(1/2)``, which is ``chi^((D - l)/2)`` when
every layer has the same ``chi``.  ``q_l`` is *measured*: the mean square of the
activation's inputs in this network's forward pass (so the line follows a signal that
shrinks or grows with depth), and the expectation is then computed for that Gaussian
(:func:`mean_squared_slope`).  The prediction is for the mean square over random
weights.  One network of width ``n = 64`` scatters around it: through a linear layer
the squared gain of a fixed vector is ``sigma_w^2`` times a chi-square variable with
``n`` degrees of freedom over ``n``, whose log has mean about ``-1/n`` and variance
about ``2/n``.  So over ``D - l`` layers the log of the measured norm sits about
``(D - l)/(2n)`` below the line, give or take ``sqrt((D - l)/(2n))`` (0.39 and 0.63
at ``D = 50``).  Where fewer units carry the adjoint (a ReLU layer passes it through
half of them; tanh and sigmoid at ``sigma_w = 4`` mostly through the units outside the
flat tails) the per-layer factor varies more and one network sits further below: for
the fixed weights here, a factor 0.37 (sigmoid) and 0.26 (tanh) at ``sigma_w = 4``.  That is finite
width, not a failure of the line: at width 256 the typical offset is about four times
smaller (the tests check that it shrinks).

``depth_report(sigma_w, depth, activation, alpha)``
    The computation, as plain data: the adjoint norms by the hand recursion, by
    ``mini_autograd`` and by ``autograd``, the theory line and the per-layer rates.
    The tests check it over the range of every control.
``build_widget(...)``
    Three sliders and an activation menu over a live figure.
``build_fallback(...)``
    The kernel-free fallback: the same figure for a sweep of one control, as a
    scrubbable player.
"""

import numbers as _numbers

import numpy as _np

from .animation import figure_png
from .html import img_tag

WIDTH = 64
BATCH = 8
MAX_DEPTH = 50
# name: (min, max, step, default).  The sliders and the tests both read this table.
CONTROLS = {
    "sigma_w": (0.25, 4.0, 0.05, 1.0),
    "depth": (1, MAX_DEPTH, 1, 30),
    "alpha": (0.0, 1.0, 0.01, 0.0),
}
ENGINES = ("by hand", "mini_autograd", "autograd")
AGREEMENT = 1e-9            # largest relative difference between engines we accept


# --------------------------------------------------------------------- activations
# Each written once for any NumPy-like module ``np``; the slopes in plain NumPy are for
# the hand recursion and the theory.

def _sigmoid(np, u):
    return 0.5 * (np.tanh(0.5 * u) + 1.0)       # never overflows, unlike 1/(1+e^-u)


ACTIVATIONS = {
    "tanh": lambda np, u: np.tanh(u),
    "relu": lambda np, u: np.where(u > 0, u, 0.0),
    "sigmoid": _sigmoid,
    "linear": lambda np, u: u,
}
SLOPES = {
    "tanh": lambda u: 1.0 - _np.tanh(u) ** 2,
    "relu": lambda u: (u > 0).astype(float),
    "sigmoid": lambda u: _sigmoid(_np, u) * (1.0 - _sigmoid(_np, u)),
    "linear": lambda u: _np.ones_like(u),
}
LABELS = {"tanh": "tanh", "relu": "ReLU", "sigmoid": "sigmoid", "linear": "linear"}

def mean_squared_slope(activation, q):
    """``E[act'(u)^2]`` for ``u ~ N(0, q)``.

    Exact for ReLU (half the units are on, whatever ``q``) and linear.  For tanh and the
    sigmoid, the trapezoid rule on a uniform grid in ``u``.  The hard point is large ``q``:
    the slope is a bump of width about 1 in ``u`` while the Gaussian is ``sqrt(q)`` wide,
    so a rule laid out on the Gaussian's scale (Gauss-Hermite in ``u / sqrt(q)``) steps
    over the bump (80 nodes are 175 times too small at ``q = 200``).  The grid covers
    ``|u| <= min(12 sqrt(q), 40)``: past 12 standard deviations the Gaussian, past 40 the
    squared slope (below ``e^-80``), is negligible; 2001 points resolve both scales
    (relative error below 1e-15 for ``q`` from 1e-12 to 1e6, against adaptive quadrature).
    """
    if activation == "relu":
        return 0.5
    if activation == "linear":
        return 1.0
    half_width = min(12.0 * _np.sqrt(q), 40.0)
    u = _np.linspace(-half_width, half_width, 2001)
    density = _np.exp(-u ** 2 / (2 * q)) / _np.sqrt(2 * _np.pi * q)
    return float(_np.trapezoid(density * SLOPES[activation](u) ** 2, u))


def _checked(sigma_w, depth, activation, alpha):
    name = "depth_report"
    if isinstance(sigma_w, bool) or not isinstance(sigma_w, _numbers.Real):
        raise TypeError(f"{name}: sigma_w (the weight scale) must be a number; got "
                        f"{type(sigma_w).__name__} {sigma_w!r}.")
    sigma_w = float(sigma_w)
    if not (_np.isfinite(sigma_w) and sigma_w > 0):
        raise ValueError(f"{name}: sigma_w (the weight scale; weights are drawn from "
                         f"N(0, sigma_w^2 / {WIDTH})) must be a positive number; got "
                         f"{sigma_w!r}.")
    if isinstance(depth, bool) or not isinstance(depth, _numbers.Integral):
        raise TypeError(f"{name}: depth must be a whole number of layers, 1 to "
                        f"{MAX_DEPTH}; got {type(depth).__name__} {depth!r} (use int()).")
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"{name}: depth must be from 1 to {MAX_DEPTH} layers (the "
                         f"weights are drawn for {MAX_DEPTH}); got {depth}.")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{name}: activation must be one of {tuple(ACTIVATIONS)}; got "
                         f"{activation!r}.")
    if isinstance(alpha, bool) or not isinstance(alpha, _numbers.Real):
        raise TypeError(f"{name}: alpha (the residual scale) must be a number; got "
                        f"{type(alpha).__name__} {alpha!r}.")
    alpha = float(alpha)
    if not (_np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"{name}: alpha (the residual scale) must be a number >= 0 "
                         f"(0 gives the plain network); got {alpha!r}.")
    return sigma_w, int(depth), activation, alpha


def network_weights(sigma_w, depth, seed=0):
    """``depth`` matrices with entries ``N(0, sigma_w^2 / WIDTH)``.

    The same standard-normal matrices for every setting, scaled by ``sigma_w`` and cut
    to the first ``depth``: a slider changes one thing only.
    """
    rng = _np.random.default_rng(seed)
    unit = rng.standard_normal((MAX_DEPTH, WIDTH, WIDTH))
    return [sigma_w / _np.sqrt(WIDTH) * g for g in unit[:depth]]


def input_batch(seed=1):
    """The fixed inputs (rows, unit variance) and read-out ``r`` (norm close to 1)."""
    rng = _np.random.default_rng(seed)
    X = rng.standard_normal((BATCH, WIDTH))
    r = rng.standard_normal(WIDTH) / _np.sqrt(WIDTH)
    return X, r


def network_loss(np, weights, activation, alpha, probes, X, r):
    """``L = mean_b r . h_D``, with ``probes[l]`` (zeros) added to ``h_l``.

    The gradient with respect to ``probes[l]`` is the adjoint ``dL/dh_l``.  Written once
    for any NumPy-like module ``np``, so every engine runs the same code.  The batch is
    stored as rows, so ``W h`` for every example is ``H @ W.T``.
    """
    act = ACTIVATIONS[activation]
    H = X + probes[0]
    for l, W in enumerate(weights, start=1):
        if alpha == 0:
            H = act(np, H @ W.T)                       # plain layer
        else:
            H = H + alpha * (act(np, H) @ W.T)         # residual block
        H = H + probes[l]
    return np.sum(H @ r) / H.shape[0]


def forward_inputs(weights, activation, alpha, X):
    """What each layer feeds its activation: ``z_l = W_l h_{l-1}`` (plain) or
    ``h_{l-1}`` (residual), for ``l = 1 ... D``.  Plain NumPy."""
    act = ACTIVATIONS[activation]
    H, inputs = X, []
    for W in weights:
        if alpha == 0:
            inputs.append(H @ W.T)
            H = act(_np, inputs[-1])
        else:
            inputs.append(H)
            H = H + alpha * (act(_np, H) @ W.T)
    return inputs


def adjoints_by_hand(weights, activation, alpha, X, r):
    """``dL/dh_l`` for ``l = 0 ... D`` by the backward recursion, in plain NumPy.

    Plain: ``hbar_{l-1} = W_l^T (act'(z_l) * hbar_l)``.  Residual:
    ``hbar_{l-1} = hbar_l + alpha act'(h_{l-1}) * (W_l^T hbar_l)``: the identity path
    plus the branch.  (Rows are examples, so ``W^T v`` is ``v @ W``.)
    """
    slope = SLOPES[activation]
    inputs = forward_inputs(weights, activation, alpha, X)
    hbar = _np.tile(r / len(X), (len(X), 1))             # dL/dh_D, one row per example
    adjoints = [hbar]
    for W, u in zip(reversed(weights), reversed(inputs)):
        if alpha == 0:
            hbar = (slope(u) * hbar) @ W
        else:
            hbar = hbar + alpha * slope(u) * (hbar @ W)
        adjoints.append(hbar)
    return adjoints[::-1]


def theory_line(weights, activation, alpha, X, sigma_w):
    """The mean-field prediction ``prod_{k > l} chi_k^(1/2)`` for ``l = 0 ... D``, and
    the per-layer factors ``chi_l`` with the measured ``q_l`` (see the module notes)."""
    q = [float(_np.mean(u ** 2)) for u in forward_inputs(weights, activation, alpha, X)]
    gain = _np.array([sigma_w ** 2 * mean_squared_slope(activation, ql) for ql in q])
    chi = gain if alpha == 0 else 1.0 + alpha ** 2 * gain
    # line[l] = sqrt(chi_{l+1} ... chi_D), line[D] = 1
    line = _np.sqrt(_np.append(_np.cumprod(chi[::-1])[::-1], 1.0))
    return line, chi, _np.array(q)


def _rms_ratio(adjoints):
    """rms over the batch of ||hbar_l|| / ||hbar_D||, per example, for l = 0 ... D."""
    per_example = _np.linalg.norm(_np.stack(adjoints), axis=2)     # (D + 1, B)
    return _np.sqrt(_np.mean((per_example / per_example[-1]) ** 2, axis=1))


def depth_report(sigma_w=CONTROLS["sigma_w"][3], depth=CONTROLS["depth"][3],
                 activation="tanh", alpha=CONTROLS["alpha"][3]):
    """Adjoint norms (three ways) and the mean-field line for one setting.

    Returns a dict with keys

    ``sigma_w``, ``depth``, ``activation``, ``alpha``
        The inputs (``alpha = 0``: the plain network).
    ``layers``
        ``l = 0 ... D``.
    ``norms``
        ``{engine: rms_b ||dL/dh_l|| / ||dL/dh_D||}`` for ``l = 0 ... D``, for the
        engines in ``ENGINES`` ("by hand" is the recursion, the others differentiate
        :func:`network_loss` with respect to the probes).  The ratio is taken per
        example, then the root mean square over the batch (the theory predicts mean
        squares).
    ``theory``, ``chi``, ``q``
        The mean-field line, its per-layer factors ``chi_l`` and the measured
        mean squares ``q_l`` of the activations' inputs.
    ``rate``, ``theory_rate``
        The per-layer factors over the whole network, ``norms[0] ** (1 / D)`` (by hand)
        and ``theory[0] ** (1 / D)``.
    ``max_discrepancy``
        The largest difference between any engine's adjoints and autograd's, relative
        to the size of autograd's adjoint of the same layer.
    """
    import autograd
    import autograd.numpy as anp

    import mini_autograd
    import mini_autograd.numpy as mnp

    sigma_w, depth, activation, alpha = _checked(sigma_w, depth, activation, alpha)
    weights = network_weights(sigma_w, depth)
    X, r = input_batch()
    zeros = [_np.zeros_like(X) for _ in range(depth + 1)]

    def by_engine(np, grad):
        g = grad(lambda p: network_loss(np, weights, activation, alpha, p, X, r))(zeros)
        return [_np.asarray(v, dtype=float) for v in g]

    with _np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            adjoints = {
                "by hand": adjoints_by_hand(weights, activation, alpha, X, r),
                "mini_autograd": by_engine(mnp, mini_autograd.grad),
                "autograd": by_engine(anp, autograd.grad),
            }
            reference = _np.stack(adjoints["autograd"])                   # (D + 1, B, n)
            scale = _np.linalg.norm(reference, axis=2, keepdims=True)
            discrepancy = max(
                float(_np.max(_np.abs(_np.stack(adjoints[e]) - reference) / scale))
                for e in ENGINES)
            norms = {e: _rms_ratio(adjoints[e]) for e in ENGINES}
            theory, chi, q = theory_line(weights, activation, alpha, X, sigma_w)
        except (FloatingPointError, ZeroDivisionError) as error:
            raise OverflowError(
                f"depth_report: the numbers left the floating-point range (overflowed, or an "
                f"adjoint underflowed to zero) "
                f"at sigma_w = {sigma_w}, depth = {depth}, activation = {activation!r}, "
                f"alpha = {alpha} ({error}); use a smaller sigma_w or alpha.") from None
    return {
        "sigma_w": sigma_w, "depth": depth, "activation": activation, "alpha": alpha,
        "layers": _np.arange(depth + 1), "norms": norms,
        "theory": theory, "chi": chi, "q": q,
        "rate": float(norms["by hand"][0] ** (1 / depth)),
        "theory_rate": float(theory[0] ** (1 / depth)),
        "max_discrepancy": discrepancy,
    }


# ------------------------------------------------------------------------ drawing

def _describe(report):
    if report["alpha"] == 0:
        return "plain"
    return f"residual, α = {report['alpha']:.2f} (α√D = {report['alpha'] * report['depth'] ** 0.5:.2f})"


def _power_of_ten(k):
    return "10" + str(int(k)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def y_limits(reports):
    """Decade-aligned vertical limits holding every curve of ``reports`` and the level 1.

    The axis is fitted to what is drawn: on one fixed axis wide enough for every setting
    (some 70 decades) a curve that falls to 4e-8 or rises to 3e4 looks flat, and the
    finite-width scatter around the line cannot be seen at all.  A fallback passes all its
    frames at once, so the axis stays put while its slider moves.
    """
    curves = [c for r in reports for c in (r["theory"], *r["norms"].values())]
    values = _np.concatenate(curves)
    low = min(_np.floor(_np.log10(values.min())) - 1, -2)
    high = max(_np.ceil(_np.log10(values.max())) + 1, 2)
    return 10.0 ** low, 10.0 ** high


def draw(ax, report, y_range=None):
    """The adjoint norms against the layer, with the mean-field line.

    ``y_range`` (low, high) defaults to :func:`y_limits` of this report alone.
    """
    layers, n = report["layers"], report["norms"]
    ax.clear()
    # Plain-text labels throughout (no $...$): mathtext parsing would dominate the time
    # of every frame of the fallback.  The line is drawn last, on top of the curve.
    ax.semilogy(layers, n["by hand"], color="#1f77b4", lw=2.2,
                label="rms ‖∂L/∂hₗ‖, by hand")
    every = max(1, report["depth"] // 12)
    ax.semilogy(layers[::every], n["mini_autograd"][::every], "o", mfc="none",
                color="#d62728", ms=6, label="mini_autograd")
    ax.semilogy(layers[::every], n["autograd"][::every], "x", color="#111827", ms=5,
                label="autograd")
    ax.semilogy(layers, report["theory"], ":", color="#111827", lw=1.6,
                label="mean field, ∏ χₖ^½ over k > l")
    ax.axhline(1.0, color="#9ca3af", lw=0.8)
    low, high = y_limits([report]) if y_range is None else y_range
    ax.set_ylim(low, high)
    # at most eight labelled decades and no minor ticks: few texts to lay out per frame
    first, last = round(float(_np.log10(low))), round(float(_np.log10(high)))
    step = max(1, -(-(last - first) // 8))
    decades = _np.arange(first - first % step, last + 1, step)
    decades = decades[(decades >= first) & (decades <= last)]
    ax.set_yticks(10.0 ** decades, [_power_of_ten(k) for k in decades])
    ax.minorticks_off()
    ax.set_xlim(0, MAX_DEPTH)
    ax.set_xlabel("layer l (the loss sits above layer D)")
    ax.set_ylabel("adjoint norm / top")
    agree = ("engines agree" if report["max_discrepancy"] <= AGREEMENT
             else f"ENGINES DISAGREE by {report['max_discrepancy']:.1e}")
    ax.set_title(f"{LABELS[report['activation']]}, σ_w = {report['sigma_w']:.2f}, "
                 f"D = {report['depth']}, {_describe(report)}\n"
                 f"per layer: measured ×{report['rate']:.3f}, mean field "
                 f"×{report['theory_rate']:.3f}; {agree}", fontsize=9)
    ax.legend(loc="best", fontsize=8, frameon=False)


def alt_text(report):
    """What the figure shows, in words, for the ``alt`` attribute of its ``<img>``."""
    end = report["norms"]["by hand"][0]
    trend = "grows" if end > 1 else "shrinks"
    return (f"Adjoint norm against layer for a {report['depth']}-layer "
            f"{LABELS[report['activation']]} network, {_describe(report)}, with weight "
            f"scale {report['sigma_w']:.2f}: going down from the top it {trend} to "
            f"{end:.2g} times its top value at the input, {report['rate']:.3f} per layer, "
            f"against {report['theory_rate']:.3f} per layer and {report['theory'][0]:.2g} "
            f"in all for the dotted mean-field line; the three engines' markers lie on "
            f"the curve.")


def render_png(report, dpi=80):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    draw(ax, report)
    fig.tight_layout()
    return figure_png(fig, dpi, colours=64)


def picture_html(report, dpi=80):
    return img_tag(render_png(report, dpi), alt_text(report))


# ------------------------------------------------------------------------ live widget

def build_widget(sigma_w=CONTROLS["sigma_w"][3], depth=CONTROLS["depth"][3],
                 activation="tanh", alpha=CONTROLS["alpha"][3]):
    """Sliders for ``sigma_w``, ``D`` and ``alpha``, an activation menu, the live figure.

    The returned VBox has attributes ``sliders`` (name -> slider), ``activation`` (the
    Dropdown), ``panel`` (the HTML widget with the picture) and ``report()`` (the report
    drawn last).
    """
    import ipywidgets as widgets

    _checked(sigma_w, depth, activation, alpha)
    style, layout = {"description_width": "110px"}, widgets.Layout(width="340px")
    lo, hi, step, _ = CONTROLS["sigma_w"]
    sliders = {"sigma_w": widgets.FloatSlider(
        value=float(sigma_w), min=lo, max=hi, step=step, description="weight scale σ_w",
        continuous_update=False, readout_format=".2f", style=style, layout=layout)}
    lo, hi, step, _ = CONTROLS["depth"]
    sliders["depth"] = widgets.IntSlider(
        value=int(depth), min=lo, max=hi, step=step, description="depth D",
        continuous_update=False, style=style, layout=layout)
    lo, hi, step, _ = CONTROLS["alpha"]
    sliders["alpha"] = widgets.FloatSlider(
        value=float(alpha), min=lo, max=hi, step=step, description="skip α (0: plain)",
        continuous_update=False, readout_format=".2f", style=style, layout=layout)
    dropdown = widgets.Dropdown(options=[(LABELS[a], a) for a in ACTIVATIONS],
                                value=activation, description="activation", style=style,
                                layout=widgets.Layout(width="240px"))
    panel = widgets.HTML()
    last = {}

    def update(_change=None):
        last["report"] = depth_report(sliders["sigma_w"].value, sliders["depth"].value,
                                      dropdown.value, sliders["alpha"].value)
        panel.value = picture_html(last["report"])

    for w in (*sliders.values(), dropdown):
        w.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([*sliders.values(), dropdown],
                                     layout=widgets.Layout(flex_flow="row wrap")), panel])
    box.sliders, box.activation, box.panel = sliders, dropdown, panel
    box.report = lambda: last["report"]
    return box


# ------------------------------------------------------------------------ fallback

def build_fallback(sweep="alpha", values=None, sigma_w=CONTROLS["sigma_w"][3],
                   depth=CONTROLS["depth"][3], activation="tanh",
                   alpha=CONTROLS["alpha"][3], dpi=60, fps=2, name="depth"):
    """A scrubbable player sweeping ``"sigma_w"``, ``"depth"`` or ``"alpha"``, the others
    fixed.

    Raises AssertionError if, in any frame, the three engines disagree.  Deterministic
    output; returns ``IPython.display.HTML``.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from . import scrubbable_animation

    if sweep not in CONTROLS:
        raise ValueError(f"build_fallback: sweep must be one of {list(CONTROLS)}; got "
                         f"{sweep!r}.")
    _checked(sigma_w, depth, activation, alpha)
    if values is None:
        lo, hi, _, _ = CONTROLS[sweep]
        values = _np.linspace(lo, hi, 9)
        if sweep == "depth":
            values = _np.unique(_np.round(values).astype(int))
    settings = [{"sigma_w": sigma_w, "depth": depth, "activation": activation,
                 "alpha": alpha, sweep: int(v) if sweep == "depth" else float(v)}
                for v in values]
    reports = [depth_report(**s) for s in settings]
    for r in reports:
        if r["max_discrepancy"] > AGREEMENT:
            raise AssertionError(f"build_fallback: engines disagree by "
                                 f"{r['max_discrepancy']:.2e} at sigma_w = {r['sigma_w']}, "
                                 f"depth = {r['depth']}, activation = {r['activation']!r}, "
                                 f"alpha = {r['alpha']}.")
    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png",
                         "font.size": 10}):
        fig, ax = plt.subplots(figsize=(7.2, 3.4), facecolor="white")
        y_range = y_limits(reports)         # one axis for every frame

        def update(j):
            draw(ax, reports[j], y_range)
            return []

        update(0)
        fig.tight_layout()
        return scrubbable_animation(fig, update, range(len(reports)), fps=fps, name=name,
                                    colours=64)
