"""The convolution-flip widget of chapter 4: which cells meet, forward and backward.

The layer is the deep-learning "convolution" (strictly, a cross-correlation) of an
input ``x`` of length ``n_in`` with a kernel ``w`` of length ``k``, with a ``stride``
``s`` and ``padding`` ``p`` zeros on each side::

    y_i = sum_m xp[i*s + m] * w[m],        xp = (p zeros, x, p zeros)
    i = 0, ..., n_out - 1,                  n_out = (n_in + 2p - k) // s + 1

Forward, output ``y_i`` gathers the inputs under its window, kernel in order.
Backward, ``dL/dx_j`` gathers the errors ``dL/dy_i`` of every output whose window
covered ``x_j``.  Laid out as a sliding window, that is the same kind of sum again:
the error, dilated by the stride (``s - 1`` zeros between entries) and padded with
``k - 1`` zeros, slides under the kernel read backwards (the FLIPPED kernel).
Kernel, ``dL/dw_m`` gathers ``dL/dy_i * xp[i*s + m]`` over every output ``i``: the
dilated error slides along the padded input like a kernel, starting at ``m``.

Functions, one job each (indices are 0-based, input indices are positions in the
unpadded ``x``):

``output_length(n_in, k, stride, padding)``
    ``n_out``; a ValueError if the kernel does not fit.
``forward_contributions(n_in, k, i, stride, padding)``
    The pairs ``(input index, kernel index)`` whose products are summed into ``y_i``.
``kernel_contributions(n_in, k, m, stride, padding)``
    The pairs ``(output index, input index)`` whose products ``ybar_i * x_t`` are
    summed into ``dL/dw_m`` (padding positions, whose input is 0, left out).
``backward_contributions(n_in, k, j, stride, padding)``
    The pairs ``(output index, kernel index)`` whose products ``ybar_i * w_m`` are
    summed into ``dL/dx_j``, in increasing output index (so decreasing kernel index:
    the flip).
``forward_layout`` / ``backward_layout``
    Where every cell sits in the two pictures (used by the drawing and the tests).
``formula_text(mode, position, ...)``
    The sum as plain Unicode text (no TeX, so it renders in any HTML).
``draw(ax, mode, position, ...)``
    The picture on a matplotlib axes; shared by both front ends below.
``build_widget(...)``
    The live version: a forward/backward/kernel toggle and sliders for the position, the
    stride and the padding; the picture is redrawn whenever one changes.
``build_fallback(...)``
    The kernel-free version for the static HTML book: every forward position, then
    every backward position, pre-rendered into a scrubbable player.
"""

import io as _io

from .html import img_tag

MODES = ("forward", "backward", "kernel")
# name: (min, max, default).  The widget's sliders and the tests both read this table.
CONTROLS = {"stride": (1, 3, 1), "padding": (0, 2, 1)}
N_IN, K = 7, 3  # the widget's input and kernel length

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def _sub(n):
    return str(n).translate(_SUB)


# ------------------------------------------------------------------------ the computation

def _check_sizes(n_in, k, stride, padding, name):
    for label, value, low in (("n_in", n_in, 1), ("k", k, 1), ("stride", stride, 1),
                              ("padding", padding, 0)):
        if int(value) != value or value < low:
            raise ValueError(f"{name}: {label} must be an integer >= {low}; got {value!r}.")
    if n_in + 2 * padding < k:
        raise ValueError(f"{name}: a kernel of length {k} does not fit in an input of length "
                         f"{n_in} with padding {padding} (padded length {n_in + 2 * padding}); "
                         "use a smaller kernel or more padding.")


def output_length(n_in, k, stride=1, padding=0):
    """Number of outputs, ``(n_in + 2 padding - k) // stride + 1``."""
    _check_sizes(n_in, k, stride, padding, "output_length")
    return (n_in + 2 * padding - k) // stride + 1


def _check_position(pos, n, what, name):
    if int(pos) != pos or not 0 <= pos < n:
        raise ValueError(f"{name}: {what} index must be an integer in [0, {n}); got {pos!r}.")


def forward_contributions(n_in, k, i, stride=1, padding=0, include_padding=False):
    """Pairs ``(input index, kernel index)`` summed into output ``y_i``.

    ``y_i = sum over the pairs (t, m) of x_t * w_m``.  The kernel sits on padded
    positions ``i*stride .. i*stride + k - 1``, i.e. input indices
    ``i*stride - padding + m``.  Indices that fall on the zero padding contribute
    nothing and are left out, unless ``include_padding`` (then they appear with
    input indices ``< 0`` or ``>= n_in``).
    """
    n_out = output_length(n_in, k, stride, padding)
    _check_position(i, n_out, "output", "forward_contributions")
    pairs = [(i * stride - padding + m, m) for m in range(k)]
    if include_padding:
        return pairs
    return [(t, m) for t, m in pairs if 0 <= t < n_in]


def backward_contributions(n_in, k, j, stride=1, padding=0):
    """Pairs ``(output index, kernel index)`` summed into ``dL/dx_j``.

    ``dL/dx_j = sum over the pairs (i, m) of ybar_i * w_m``, one pair for every output
    whose window covered ``x_j`` (``i*stride + m = j + padding``).  Sorted by output
    index, which puts the kernel indices in decreasing order: the flipped kernel.
    """
    n_out = output_length(n_in, k, stride, padding)
    _check_position(j, n_in, "input", "backward_contributions")
    t = j + padding  # position in the padded input
    pairs = []
    for m in range(k - 1, -1, -1):
        if (t - m) >= 0 and (t - m) % stride == 0 and (t - m) // stride < n_out:
            pairs.append(((t - m) // stride, m))
    return pairs


def kernel_contributions(n_in, k, m, stride=1, padding=0):
    """Pairs ``(output index, input index)`` summed into ``dL/dw_m``.

    ``dL/dw_m = sum over the pairs (i, t) of ybar_i * x_t``: weight ``w_m`` meets, at
    every output ``i``, the padded input at ``i*stride + m``, i.e. input index
    ``t = i*stride + m - padding``.  Pairs whose input falls on the zero padding
    contribute nothing and are left out.
    """
    n_out = output_length(n_in, k, stride, padding)
    _check_position(m, k, "kernel", "kernel_contributions")
    pairs = [(i, i * stride + m - padding) for i in range(n_out)]
    return [(i, t) for i, t in pairs if 0 <= t < n_in]


def kernel_layout(n_in, k, m, stride=1, padding=0):
    """Where the cells of the kernel-gradient picture sit, for weight ``m``.

    ``row``: the padded input, as in ``forward_layout``; ``error``: the dilated error
    as it slides along that row, ``(column, ("error", i) or ("dilation", None))``,
    starting at column ``m``; ``result``: the kernel gradients ``(column, index)``,
    ``dL/dw_q`` under column ``q``, where the error starts when it makes that entry.
    """
    n_out = output_length(n_in, k, stride, padding)
    _check_position(m, k, "kernel", "kernel_layout")
    row = [("input", c - padding) if padding <= c < padding + n_in else ("pad", None)
           for c in range(n_in + 2 * padding)]
    error = [(m + d, ("error", d // stride) if d % stride == 0 else ("dilation", None))
             for d in range((n_out - 1) * stride + 1)]
    return {"row": row, "error": error, "result": [(q, q) for q in range(k)]}


def forward_layout(n_in, k, i, stride=1, padding=0):
    """Where the cells of the forward picture sit, for output ``i``.

    ``row``: one entry per padded input position, ``("input", t)`` or ``("pad", None)``;
    ``start``: the position of the kernel's first cell (kernel drawn in order, ``w_0``
    first); ``kernel``: the kernel indices from left to right; ``result``: one entry
    per output, ``(column of its centre, output index)``.
    """
    n_out = output_length(n_in, k, stride, padding)
    _check_position(i, n_out, "output", "forward_layout")
    row = [("input", c - padding) if padding <= c < padding + n_in else ("pad", None)
           for c in range(n_in + 2 * padding)]
    result = [(o * stride + (k - 1) / 2, o) for o in range(n_out)]
    return {"row": row, "start": i * stride, "kernel": list(range(k)), "result": result}


def backward_layout(n_in, k, j, stride=1, padding=0):
    """Where the cells of the backward (flipped-kernel) picture sit, for input ``j``.

    ``row`` is the error as the backward cross-correlation reads it: ``k - 1`` zeros,
    then ``ybar_0``, ``stride - 1`` zeros, ``ybar_1``, ..., and zeros again up to
    length ``n_in + 2 padding + k - 1`` (the ``k - 1`` zeros of a full convolution plus
    zeros for the inputs that no window reached).  Entries are ``("error", i)``,
    ``("dilation", None)`` (a zero inserted by the stride) or ``("pad", None)``.
    ``start``: where the flipped kernel's first cell sits (``j + padding``);
    ``kernel``: kernel indices from left to right (``k-1, ..., 0``); ``result``:
    one entry per padded input position, ``(column of its centre, input index or
    None for a padding position, whose gradient is cropped away)``.
    """
    n_out = output_length(n_in, k, stride, padding)
    _check_position(j, n_in, "input", "backward_layout")
    last = (k - 1) + (n_out - 1) * stride  # column of the last error cell
    row = []
    for u in range(n_in + 2 * padding + k - 1):
        d = u - (k - 1)
        if 0 <= d and u <= last:
            row.append(("error", d // stride) if d % stride == 0 else ("dilation", None))
        else:
            row.append(("pad", None))
    result = [(c + (k - 1) / 2, c - padding if padding <= c < padding + n_in else None)
              for c in range(n_in + 2 * padding)]
    return {"row": row, "start": j + padding, "kernel": list(range(k - 1, -1, -1)),
            "result": result}


def contributions(mode, position, n_in, k, stride=1, padding=0):
    """``forward_contributions`` or ``backward_contributions``, by ``mode``."""
    if mode == "forward":
        return forward_contributions(n_in, k, position, stride, padding)
    if mode == "backward":
        return backward_contributions(n_in, k, position, stride, padding)
    if mode == "kernel":
        return kernel_contributions(n_in, k, position, stride, padding)
    raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")


def positions(mode, n_in, k, stride=1, padding=0):
    """How many positions the slider offers in ``mode``: outputs forward, inputs
    backward, weights in the kernel-gradient view."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
    if mode == "kernel":
        output_length(n_in, k, stride, padding)  # checks the sizes
        return k
    return output_length(n_in, k, stride, padding) if mode == "forward" else n_in


def formula_text(mode, position, n_in, k, stride=1, padding=0):
    """The sum for one position as Unicode text, e.g. ``y₂ = x₁·w₀ + x₂·w₁ + x₃·w₂``."""
    pairs = contributions(mode, position, n_in, k, stride, padding)
    if mode == "forward":
        lhs = f"y{_sub(position)}"
        terms = [f"x{_sub(t)}·w{_sub(m)}" for t, m in pairs]
    elif mode == "kernel":
        lhs = f"∂L/∂w{_sub(position)}"
        terms = [f"ȳ{_sub(i)}·x{_sub(t)}" for i, t in pairs]
    else:
        lhs = f"∂L/∂x{_sub(position)}"
        terms = [f"ȳ{_sub(i)}·w{_sub(m)}" for i, m in pairs]
    return f"{lhs} = {' + '.join(terms) if terms else '0'}"


# ------------------------------------------------------------------------ the picture

_C = {"cell": "#f3f4f6", "edge": "#6b7280", "pad": "#ffffff", "win": "#fed7aa",
      "win_edge": "#ea580c", "ker": "#bfdbfe", "ker_edge": "#1d4ed8", "ker_off": "#eff6ff",
      "err": "#fecaca", "err_edge": "#b91c1c", "res": "#fca5a5", "ink": "#111827",
      "faint": "#9ca3af"}


def _cell(ax, x, y, label, face, edge, *, dashed=False, bold=False, faint=False, lw=1.0,
          size=10.5):
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x - 0.42, y - 0.36), 0.84, 0.72, facecolor=face, edgecolor=edge,
                           lw=lw, ls="--" if dashed else "-"))
    ax.text(x, y, label, ha="center", va="center", fontsize=size,
            color=_C["faint"] if faint else _C["ink"], fontweight="bold" if bold else None)


def draw(ax, mode, position, n_in=N_IN, k=K, stride=1, padding=0):
    """Draw the forward or backward picture for one position on ``ax`` (cleared first)."""
    pairs = contributions(mode, position, n_in, k, stride, padding)
    width = n_in + 2 * padding + k - 1  # the longest row (the backward one)
    ax.clear()
    ax.set_xlim(-4.3, width - 0.45)
    ax.set_ylim(-0.95, 3.2)  # room under the bottom row for the backward windows
    ax.set_aspect("equal")
    ax.axis("off")
    y_top, y_ker, y_bot = 2.0, 1.0, 0.0
    if mode == "forward":
        lay = forward_layout(n_in, k, position, stride, padding)
        used = {t for t, _ in pairs}
        labels = ("input x\n(zero-padded)", "kernel w", "output y")
        for c, (kind, t) in enumerate(lay["row"]):
            inside = lay["start"] <= c < lay["start"] + k
            if kind == "pad":
                _cell(ax, c, y_top, "0", _C["pad"], _C["edge"], dashed=True, faint=True)
            else:
                hot = t in used
                _cell(ax, c, y_top, f"x{_sub(t)}", _C["win"] if hot else _C["cell"],
                      _C["win_edge"] if hot else _C["edge"], lw=1.6 if hot else 1.0)
            if inside:
                ax.plot([c, c], [y_top - 0.36, y_ker + 0.36], color=_C["win_edge"]
                        if kind != "pad" else _C["faint"], lw=1.2)
        live = {m for _, m in pairs}
        for r, m in enumerate(lay["kernel"]):
            c = lay["start"] + r
            on = m in live
            _cell(ax, c, y_ker, f"w{_sub(m)}", _C["ker"] if on else _C["ker_off"],
                  _C["ker_edge"], faint=not on, lw=1.6 if on else 1.0)
            ax.plot([c, lay["result"][position][0]], [y_ker - 0.36, y_bot + 0.36],
                    color=_C["ker_edge"] if on else _C["faint"], lw=1.0)
        for col, o in lay["result"]:
            hot = o == position
            _cell(ax, col, y_bot, f"y{_sub(o)}", _C["res"] if hot else _C["cell"],
                  _C["err_edge"] if hot else _C["edge"], lw=1.8 if hot else 1.0)
        title = (f"forward:  {formula_text(mode, position, n_in, k, stride, padding)}"
                 f"    (kernel in order: w₀ … w{_sub(k - 1)})")
    elif mode == "kernel":
        lay = kernel_layout(n_in, k, position, stride, padding)
        used = {t for _, t in pairs}
        labels = ("input x\n(zero-padded)", "error ȳ\n(dilated)", "kernel\ngradient w̄")
        for c, (kind, t) in enumerate(lay["row"]):
            if kind == "pad":
                _cell(ax, c, y_top, "0", _C["pad"], _C["edge"], dashed=True, faint=True)
            else:
                hot = t in used
                _cell(ax, c, y_top, f"x{_sub(t)}", _C["win"] if hot else _C["cell"],
                      _C["win_edge"] if hot else _C["edge"], lw=1.6 if hot else 1.0)
        for c, (kind, i) in lay["error"]:
            if kind == "dilation":
                _cell(ax, c, y_ker, "0", _C["cell"], _C["edge"], faint=True)
                continue
            on_input = lay["row"][c][0] == "input"
            _cell(ax, c, y_ker, f"ȳ{_sub(i)}", _C["err"] if on_input else _C["cell"],
                  _C["err_edge"], faint=not on_input, lw=1.6 if on_input else 1.0)
            ax.plot([c, c], [y_top - 0.36, y_ker + 0.36],
                    color=_C["win_edge"] if on_input else _C["faint"], lw=1.2)
            ax.plot([c, position], [y_ker - 0.36, y_bot + 0.36],
                    color=_C["err_edge"] if on_input else _C["faint"], lw=1.0)
        for col, q in lay["result"]:
            hot = q == position
            _cell(ax, col, y_bot, f"w̄{_sub(q)}", _C["res"] if hot else _C["cell"],
                  _C["err_edge"] if hot else _C["edge"], lw=1.8 if hot else 1.0)
        rhs = formula_text(mode, position, n_in, k, stride, padding).split(" = ", 1)[1]
        title = f"kernel gradient:  w̄{_sub(position)} = {rhs}"
    else:
        lay = backward_layout(n_in, k, position, stride, padding)
        used = {i for i, _ in pairs}
        labels = ("error ȳ = ∂L/∂y\n(dilated, padded)", "kernel,\nFLIPPED", "input\ngradient x̄")
        for c, (kind, i) in enumerate(lay["row"]):
            inside = lay["start"] <= c < lay["start"] + k
            if kind == "error":
                hot = i in used
                _cell(ax, c, y_top, f"ȳ{_sub(i)}", _C["err"] if hot else _C["cell"],
                      _C["err_edge"] if hot else _C["edge"], lw=1.6 if hot else 1.0)
            else:
                _cell(ax, c, y_top, "0", _C["pad"] if kind == "pad" else _C["cell"],
                      _C["edge"], dashed=kind == "pad", faint=True)
            if inside:
                ax.plot([c, c], [y_top - 0.36, y_ker + 0.36], color=_C["err_edge"]
                        if kind == "error" and i in used else _C["faint"], lw=1.2)
        live = {m for _, m in pairs}
        centre = lay["result"][lay["start"]][0]
        for r, m in enumerate(lay["kernel"]):
            c = lay["start"] + r
            on = m in live
            _cell(ax, c, y_ker, f"w{_sub(m)}", _C["ker"] if on else _C["ker_off"],
                  _C["ker_edge"], faint=not on, lw=1.6 if on else 1.0)
            ax.plot([c, centre], [y_ker - 0.36, y_bot + 0.36],
                    color=_C["ker_edge"] if on else _C["faint"], lw=1.0)
        for col, t in lay["result"]:
            if t is None:
                _cell(ax, col, y_bot, "crop", _C["pad"], _C["edge"], dashed=True, faint=True,
                      size=7.5)
            else:
                hot = t == position
                _cell(ax, col, y_bot, f"x̄{_sub(t)}", _C["res"] if hot else _C["cell"],
                      _C["err_edge"] if hot else _C["edge"], lw=1.8 if hot else 1.0)
        # the forward windows that covered x_j: one bracket per output it fed
        for r, (i, _) in enumerate(pairs):
            left = i * stride + (k - 1) / 2 - 0.42
            right = i * stride + (k - 1) + (k - 1) / 2 + 0.42
            y = y_bot - 0.48 - 0.16 * r
            ax.plot([left, left, right, right], [y + 0.07, y, y, y + 0.07],
                    color=_C["win_edge"], lw=1.1)
            ax.text(left - 0.1, y, f"y{_sub(i)}", ha="right", va="center", fontsize=7.5,
                    color=_C["win_edge"])
        rhs = formula_text(mode, position, n_in, k, stride, padding).split(" = ", 1)[1]
        title = (f"backward:  x̄{_sub(position)} = ∂L/∂x{_sub(position)} = {rhs}"
                 f"    (kernel FLIPPED: w{_sub(k - 1)} … w₀)")
    for y, text in zip((y_top, y_ker, y_bot), labels):
        ax.text(-0.6, y, text, ha="right", va="center", fontsize=9, color="#374151",
                linespacing=1.0)
    ax.text(-4.2, 2.85, title, ha="left", va="center", fontsize=11, color=_C["ink"])
    ax.text(-4.2, -0.62, f"stride {stride}, padding {padding}", ha="left",
            va="center", fontsize=9, color="#4b5563")


def _figsize(n_in, k, padding):
    width = n_in + 2 * padding + k - 1 + 3.85
    return (0.46 * width, 0.46 * 4.15)


def _figure(n_in, k, padding):
    from matplotlib.figure import Figure

    fig = Figure(figsize=_figsize(n_in, k, padding), facecolor="white")
    fig.add_axes((0, 0, 1, 1))
    return fig


def render_png(mode, position, n_in=N_IN, k=K, stride=1, padding=0, dpi=90, fig=None):
    """The picture as PNG bytes (no pyplot state involved).

    Pass a ``fig`` made by an earlier call's ``_figure`` to redraw it in place: reusing
    one figure keeps matplotlib's text-layout cache warm (three times faster).
    """
    if fig is None:
        fig = _figure(n_in, k, CONTROLS["padding"][1])
    draw(fig.axes[0], mode, position, n_in, k, stride, padding)
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def picture_alt_text(mode, position, n_in=N_IN, k=K, stride=1, padding=0):
    """What the picture shows, in words, for the ``alt`` attribute of its ``<img>``."""
    what = {"forward": "which inputs feed output {}, with the kernel weight on each arrow",
            "backward": "which outputs receive input {}, with the kernel weight on each "
                        "arrow, and brackets under the gradients mark the forward windows "
                        "that covered it",
            "kernel": "which errors and inputs meet in the gradient of weight {}"}[mode]
    return (f"Convolution diagram, {mode} pass, stride {stride}, padding {padding}: "
            f"arrows show {what.format(position)}; "
            f"the sum drawn is {formula_text(mode, position, n_in, k, stride, padding)}")


def picture_html(png, mode, position, n_in=N_IN, k=K, stride=1, padding=0):
    """The PNG as an ``<img>`` with an alt text, for an ``HTML`` widget."""
    return img_tag(png, picture_alt_text(mode, position, n_in, k, stride, padding))


# ------------------------------------------------------------------------ live widget

def build_widget(n_in=N_IN, k=K, mode="forward", position=0, stride=CONTROLS["stride"][2],
                 padding=CONTROLS["padding"][2], dpi=90):
    """A forward/backward/kernel toggle, sliders for position, stride and padding, a picture.

    The returned VBox has attributes for programmatic use: ``mode`` (ToggleButtons),
    ``position``, ``stride``, ``padding`` (IntSliders), ``image`` (the picture: an
    ``HTML`` widget holding an ``<img>`` whose alt text says which sum is drawn, since
    an ipywidgets ``Image`` cannot carry alt text), ``png`` (the picture's PNG bytes)
    and ``caption`` (the sum as text, an ``HTML`` widget).  The
    position slider's range follows the mode (outputs forward, inputs backward) and
    the stride and padding.
    """
    import ipywidgets as widgets

    if mode not in MODES:
        raise ValueError(f"build_widget: mode must be one of {MODES}; got {mode!r}.")
    lo_s, hi_s, _ = CONTROLS["stride"]
    lo_p, hi_p, _ = CONTROLS["padding"]
    for label, value, lo, hi in (("stride", stride, lo_s, hi_s),
                                 ("padding", padding, lo_p, hi_p)):
        if not lo <= value <= hi:
            raise ValueError(f"build_widget: {label} must lie in [{lo}, {hi}]; got {value}.")
    layout = widgets.Layout(width="300px")
    toggle = widgets.ToggleButtons(options=list(MODES), value=mode, description="pass")
    s_slider = widgets.IntSlider(value=stride, min=lo_s, max=hi_s, description="stride",
                                 layout=layout)
    p_slider = widgets.IntSlider(value=padding, min=lo_p, max=hi_p, description="padding",
                                 layout=layout)
    n_pos = positions(mode, n_in, k, stride, padding)
    pos_slider = widgets.IntSlider(value=min(max(position, 0), n_pos - 1), min=0,
                                   max=n_pos - 1, layout=layout)
    image = widgets.HTML()
    png = [b""]
    caption = widgets.HTML()
    fig = _figure(n_in, k, hi_p)  # one figure, redrawn on every change
    busy = [False]

    def update(_change=None):
        if busy[0]:
            return
        busy[0] = True
        try:
            m, s, p = toggle.value, s_slider.value, p_slider.value
            n = positions(m, n_in, k, s, p)
            pos_slider.max = n - 1  # ipywidgets clamps the value to the new range
            pos_slider.description = {"forward": "output i", "backward": "input j",
                                      "kernel": "weight m"}[m]
            j = pos_slider.value
            png[0] = render_png(m, j, n_in, k, s, p, dpi=dpi, fig=fig)
            image.value = picture_html(png[0], m, j, n_in, k, s, p)
            caption.value = (
                '<div style="font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, '
                'monospace; font-size: 14px; color: #111827; background: #ffffff; '
                f'padding: 4px 8px;">{formula_text(m, j, n_in, k, s, p)}</div>')
        finally:
            busy[0] = False

    for w in (toggle, s_slider, p_slider, pos_slider):
        w.observe(update, names="value")
    update()
    box = widgets.VBox([toggle, widgets.HBox([pos_slider, s_slider, p_slider]), caption,
                        image])
    box.mode, box.position, box.stride, box.padding = toggle, pos_slider, s_slider, p_slider
    box.image, box.caption = image, caption
    box.png = lambda: png[0]
    return box


# ------------------------------------------------------------------------ fallback

def fallback_frames(n_in=N_IN, k=K, stride=1, padding=0):
    """The frames of the fallback player: every forward position, then every backward
    one, then every weight of the kernel-gradient view."""
    return ([("forward", i) for i in range(positions("forward", n_in, k, stride, padding))]
            + [("backward", j) for j in range(n_in)] + [("kernel", m) for m in range(k)])


def build_fallback(n_in=N_IN, k=K, stride=1, padding=0, dpi=90, fps=1,
                   name="convolution_flip"):
    """A scrubbable player stepping through ``fallback_frames``; deterministic HTML."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from . import scrubbable_animation

    frames = fallback_frames(n_in, k, stride, padding)
    with mpl.rc_context({"savefig.dpi": dpi, "animation.frame_format": "png"}):
        fig = plt.figure(figsize=_figsize(n_in, k, padding), facecolor="white")
        ax = fig.add_axes((0, 0, 1, 1))

        def update(f):
            draw(ax, frames[f][0], frames[f][1], n_in, k, stride, padding)
            return []

        update(0)
        return scrubbable_animation(fig, update, range(len(frames)), fps=fps, name=name,
                                    colours=64)
