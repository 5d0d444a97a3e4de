"""The convolution-flip widget of chapter 4 (book_tools/widgets/convolution.py).

The contribution lists of all three modes are checked against the real Jacobians of
``nn.conv1d`` with respect to the input and to the kernel, computed by HIPS
``autograd.jacobian`` (the same layer built on autograd's NumPy) and by
``mini_autograd.jacobian``, for every position, stride and padding the widget offers
and for a wider grid of sizes; so are the forward windows that backward mode brackets;
the layouts must agree with the lists; the widget must react to every control; the
fallback must be a deterministic player.
"""

import base64
import functools
import itertools

import numpy as np
import pytest

from book_tools.widgets import convolution as cv
from mini_autograd import jacobian, nn

autograd = pytest.importorskip("autograd")
import autograd.numpy as anp
import autograd.scipy.special as asp

ag_nn = nn.layers_for(anp, asp.logsumexp)  # the same layer, on autograd's NumPy

# ipywidgets is needed only by the tests that build the widget (they skip without it);
# the computations behind it are tested either way.


def _conv_jacobian(n_in, k, stride, padding):
    """Jacobian of y = conv1d(x, w) with respect to x, with distinct nonzero weights:
    autograd's, asserted equal to mini_autograd's."""
    w = 1.0 + np.arange(k) * 0.75        # 1.0, 1.75, 2.5, ...: no weight is 0 or repeated
    x = np.linspace(-1.0, 1.0, n_in)
    conv = functools.partial(ag_nn.conv1d, w=w, stride=stride, padding=padding)
    J = np.asarray(autograd.jacobian(conv)(x))
    mini = functools.partial(nn.conv1d, w=w, stride=stride, padding=padding)
    np.testing.assert_array_equal(np.asarray(jacobian(mini)(x)), J)
    return J, w


def _check_against_jacobian(n_in, k, stride, padding):
    J, w = _conv_jacobian(n_in, k, stride, padding)
    n_out = cv.output_length(n_in, k, stride, padding)
    assert J.shape == (n_out, n_in)
    # forward: row i of J holds w_m at column t for each listed pair, zeros elsewhere
    for i in range(n_out):
        pairs = cv.forward_contributions(n_in, k, i, stride, padding)
        expected = np.zeros(n_in)
        for t, m in pairs:
            expected[t] = w[m]
        np.testing.assert_array_equal(J[i], expected, err_msg=f"row {i}")
        assert len({t for t, _ in pairs}) == len(pairs)
    # backward: column j of J (row j of J^T, which maps ybar to xbar) likewise
    for j in range(n_in):
        pairs = cv.backward_contributions(n_in, k, j, stride, padding)
        expected = np.zeros(n_out)
        for i, m in pairs:
            expected[i] = w[m]
        np.testing.assert_array_equal(J[:, j], expected, err_msg=f"column {j}")
        outs = [i for i, _ in pairs]
        ms = [m for _, m in pairs]
        assert outs == sorted(outs) and ms == sorted(ms, reverse=True)  # the flip
    # kernel: dy_i/dw_m = x_t for each listed pair (i, t), 0 where w_m sits on padding
    x = np.linspace(0.5, 2.0, n_in)      # distinct nonzero inputs
    Jw = np.asarray(autograd.jacobian(
        functools.partial(ag_nn.conv1d, x, stride=stride, padding=padding))(w))
    Jw_mini = jacobian(functools.partial(nn.conv1d, x, stride=stride, padding=padding))(w)
    np.testing.assert_array_equal(np.asarray(Jw_mini), Jw)
    for m in range(k):
        expected = np.zeros(n_out)
        for i, t in cv.kernel_contributions(n_in, k, m, stride, padding):
            expected[i] = x[t]
        np.testing.assert_array_equal(Jw[:, m], expected, err_msg=f"kernel column {m}")


@pytest.mark.parametrize("stride", range(cv.CONTROLS["stride"][0], cv.CONTROLS["stride"][1] + 1))
@pytest.mark.parametrize("padding",
                         range(cv.CONTROLS["padding"][0], cv.CONTROLS["padding"][1] + 1))
def test_widget_range_against_the_jacobian(stride, padding):
    _check_against_jacobian(cv.N_IN, cv.K, stride, padding)


@pytest.mark.parametrize("n_in, k", [(1, 1), (2, 2), (4, 1), (5, 2), (6, 4), (9, 3), (8, 5)])
@pytest.mark.parametrize("stride", [1, 2, 3, 4])
@pytest.mark.parametrize("padding", [0, 1, 2, 3])
def test_other_sizes_against_the_jacobian(n_in, k, stride, padding):
    if n_in + 2 * padding < k:
        with pytest.raises(ValueError, match="does not fit"):
            cv.output_length(n_in, k, stride, padding)
        return
    _check_against_jacobian(n_in, k, stride, padding)


def test_kernel_gradient_is_the_input_correlated_with_the_error():
    """The kernel mode's sums, for a random x and error, are chapter 4's sliding window
    (the padded input cross-correlated with the error dilated by the stride) and
    autograd's gradient."""
    rng = np.random.default_rng(0)
    for stride, padding in itertools.product(range(1, 4), range(3)):
        x, w = rng.standard_normal(cv.N_IN), rng.standard_normal(cv.K)
        n_out = cv.output_length(cv.N_IN, cv.K, stride, padding)
        ybar = rng.standard_normal(n_out)
        dilated = np.zeros((n_out - 1) * stride + 1)
        dilated[::stride] = ybar
        window = np.correlate(np.pad(x, padding), dilated, mode="valid")[:cv.K]
        from_lists = [sum(ybar[i] * x[t] for i, t in
                          cv.kernel_contributions(cv.N_IN, cv.K, m, stride, padding))
                      for m in range(cv.K)]

        def loss(w, x=x, ybar=ybar, stride=stride, padding=padding):
            return anp.sum(ag_nn.conv1d(x, w, stride=stride, padding=padding) * ybar)

        np.testing.assert_allclose(from_lists, window, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(from_lists, autograd.grad(loss)(w), rtol=1e-12,
                                   atol=1e-12)


@pytest.mark.parametrize("stride, padding", list(itertools.product(range(1, 4), range(3))))
def test_backward_brackets_are_the_forward_windows_over_x_j(stride, padding):
    """Backward mode brackets, under the gradient row, the forward windows that covered
    x_j: one per row of autograd's Jacobian that uses x_j, spanning that window's k
    padded positions."""
    matplotlib = pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    matplotlib.use("Agg")
    ax = Figure().add_subplot()
    J, _ = _conv_jacobian(cv.N_IN, cv.K, stride, padding)
    half = (cv.K - 1) / 2  # a result cell sits at its padded position + (k - 1)/2
    for j in range(cv.N_IN):
        cv.draw(ax, "backward", j, cv.N_IN, cv.K, stride, padding)
        outputs = list(np.flatnonzero(J[:, j]))
        labels = [t.get_text() for t in ax.texts if t.get_text().startswith("y")]
        assert labels == [f"y{cv._sub(i)}" for i in outputs], (j, labels)
        brackets = [line.get_xdata() for line in ax.lines if len(line.get_xdata()) == 4]
        spans = [(round(xs[0] + 0.42 - half), round(xs[2] - 0.42 - half)) for xs in brackets]
        windows = [cv.forward_layout(cv.N_IN, cv.K, i, stride, padding)["start"]
                   for i in outputs]
        assert spans == [(s, s + cv.K - 1) for s in windows], (j, spans)
        # x_j lies inside each window it is listed under
        for i, s in zip(outputs, windows):
            assert s <= j + padding <= s + cv.K - 1


def test_include_padding_lists_the_whole_window():
    pairs = cv.forward_contributions(5, 3, 0, stride=1, padding=2, include_padding=True)
    assert pairs == [(-2, 0), (-1, 1), (0, 2)]
    assert cv.forward_contributions(5, 3, 0, stride=1, padding=2) == [(0, 2)]


@pytest.mark.parametrize("stride, padding", list(itertools.product(range(1, 4), range(3))))
def test_layouts_agree_with_the_contributions(stride, padding):
    n_in, k = cv.N_IN, cv.K
    n_out = cv.output_length(n_in, k, stride, padding)
    for i in range(n_out):
        lay = cv.forward_layout(n_in, k, i, stride, padding)
        assert len(lay["row"]) == n_in + 2 * padding and lay["kernel"] == list(range(k))
        window = [(lay["row"][lay["start"] + r], m) for r, m in enumerate(lay["kernel"])]
        pairs = [(t, m) for (kind, t), m in window if kind == "input"]
        assert pairs == cv.forward_contributions(n_in, k, i, stride, padding)
    for j in range(n_in):
        lay = cv.backward_layout(n_in, k, j, stride, padding)
        row = lay["row"]
        assert len(row) == n_in + 2 * padding + k - 1
        assert [i for kind, i in row if kind == "error"] == list(range(n_out))
        assert lay["kernel"] == list(range(k - 1, -1, -1))  # drawn flipped
        window = [(row[lay["start"] + r], m) for r, m in enumerate(lay["kernel"])]
        pairs = [(i, m) for (kind, i), m in window if kind == "error"]
        assert pairs == cv.backward_contributions(n_in, k, j, stride, padding)
        assert [t for _, t in lay["result"] if t is not None] == list(range(n_in))


def test_formula_text():
    assert cv.formula_text("forward", 2, 7, 3, 1, 1) == "y₂ = x₁·w₀ + x₂·w₁ + x₃·w₂"
    assert cv.formula_text("backward", 3, 7, 3, 1, 1) == "∂L/∂x₃ = ȳ₂·w₂ + ȳ₃·w₁ + ȳ₄·w₀"
    assert cv.formula_text("backward", 4, 7, 3, 2, 1) == "∂L/∂x₄ = ȳ₂·w₁"
    # an input no window reaches gets no gradient
    assert cv.backward_contributions(6, 3, 5, stride=2) == []
    assert cv.formula_text("backward", 5, 6, 3, 2, 0) == "∂L/∂x₅ = 0"


@pytest.mark.parametrize("call, match", [
    (lambda: cv.output_length(2, 3), "does not fit"),
    (lambda: cv.output_length(5, 3, stride=0), "stride must be an integer >= 1"),
    (lambda: cv.forward_contributions(7, 3, 5), r"output index must be an integer in \[0, 5\)"),
    (lambda: cv.backward_contributions(7, 3, -1), r"input index must be an integer in \[0, 7\)"),
    (lambda: cv.contributions("sideways", 0, 7, 3), "mode must be one of"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_widget_rejects_a_stride_out_of_range():
    pytest.importorskip("ipywidgets")
    with pytest.raises(ValueError, match=r"stride must lie in \[1, 3\]"):
        cv.build_widget(stride=4)


@pytest.fixture(scope="module")
def ui():
    pytest.importorskip("ipywidgets")
    return cv.build_widget()


def test_widget_controls_match_the_table(ui):
    for name in ("stride", "padding"):
        lo, hi, default = cv.CONTROLS[name]
        slider = getattr(ui, name)
        assert (slider.min, slider.max, slider.value) == (lo, hi, default)
    assert list(ui.mode.options) == list(cv.MODES) and ui.mode.value == "forward"
    assert ui.position.max == cv.output_length(cv.N_IN, cv.K, 1, 1) - 1


def test_moving_the_controls_updates_the_picture(ui):
    image, caption = ui.png(), ui.caption.value
    assert image.startswith(b"\x89PNG") and "y₀ =" in caption
    assert ui.image.value.startswith('<img alt="Convolution diagram, forward pass')
    assert "y₀ =" in ui.image.value and base64.b64encode(image).decode() in ui.image.value
    ui.position.value = 2
    assert ui.png() != image and "y₂ = x₁·w₀ + x₂·w₁ + x₃·w₂" in ui.caption.value
    before = ui.png()
    ui.mode.value = "backward"
    assert ui.png() != before and "∂L/∂x₂ =" in ui.caption.value
    assert ui.position.max == cv.N_IN - 1 and ui.position.description == "input j"
    ui.mode.value = "kernel"
    assert ui.position.max == cv.K - 1 and ui.position.description == "weight m"
    assert "∂L/∂w" in ui.caption.value and "make the gradient" not in ui.image.value
    assert "gradient of weight" in ui.image.value
    ui.mode.value = "forward"


def test_every_setting_of_every_control(monkeypatch):
    """Drive the real widget through every mode, stride, padding and position.

    The PNG encoder is swapped for a stand-in that records what it was asked to draw
    (the drawing itself is tested on every setting below; encoding 150 PNGs is slow).
    """
    pytest.importorskip("ipywidgets")
    calls = []

    def fake_png(mode, position, n_in, k, stride, padding, dpi=72, fig=None):
        calls.append((mode, position, stride, padding))
        return repr(calls[-1]).encode()

    monkeypatch.setattr(cv, "render_png", fake_png)
    ui = cv.build_widget()
    for mode in cv.MODES:
        ui.mode.value = mode
        for s in range(ui.stride.min, ui.stride.max + 1):
            ui.stride.value = s
            for p in range(ui.padding.min, ui.padding.max + 1):
                ui.padding.value = p
                n = cv.positions(mode, cv.N_IN, cv.K, s, p)
                assert ui.position.max == n - 1, (mode, s, p)
                for pos in range(ui.position.min, ui.position.max + 1):
                    ui.position.value = pos
                    assert calls[-1] == (mode, pos, s, p)
                    assert ui.png() == repr(calls[-1]).encode()
                    text = cv.formula_text(mode, pos, cv.N_IN, cv.K, s, p)
                    assert text in ui.caption.value


@pytest.mark.parametrize("mode", cv.MODES)
def test_drawing_every_setting(mode):
    matplotlib = pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    matplotlib.use("Agg")
    ax = Figure().add_subplot()
    for s in range(cv.CONTROLS["stride"][0], cv.CONTROLS["stride"][1] + 1):
        for p in range(cv.CONTROLS["padding"][0], cv.CONTROLS["padding"][1] + 1):
            for pos in range(cv.positions(mode, cv.N_IN, cv.K, s, p)):
                cv.draw(ax, mode, pos, cv.N_IN, cv.K, s, p)
                texts = [t.get_text() for t in ax.texts]
                assert any(cv.formula_text(mode, pos, cv.N_IN, cv.K, s, p).split(" = ")[-1]
                           in t for t in texts), (mode, s, p, pos)
    # and a few real PNGs, the kernel drawn flipped in the backward pass
    png = cv.render_png(mode, 2, stride=2, padding=1, dpi=30)
    assert png.startswith(b"\x89PNG")
    kernel_row = [t.get_text() for t in ax.texts if t.get_text().startswith("w")]
    expected = {"forward": ["w₀", "w₁", "w₂"], "backward": ["w₂", "w₁", "w₀"],
                "kernel": ["w̄₀", "w̄₁", "w̄₂"]}[mode]
    assert kernel_row == expected


def test_widget_html_has_no_tex(ui):
    for mode in cv.MODES:
        ui.mode.value = mode
        for tex in ("$", "\\bar", "\\partial", "\\("):
            assert tex not in ui.caption.value


def test_fallback_is_a_deterministic_player():
    pytest.importorskip("matplotlib")
    pytest.importorskip("IPython")
    a = cv.build_fallback(n_in=4, k=2, stride=2, padding=0, dpi=30, name="t").data
    b = cv.build_fallback(n_in=4, k=2, stride=2, padding=0, dpi=30, name="t").data
    assert a == b
    assert 'type="range" class="anim-slider"' in a  # the scrub slider
    frames = cv.fallback_frames(n_in=4, k=2, stride=2, padding=0)
    assert frames == ([("forward", 0), ("forward", 1)] + [("backward", j) for j in range(4)]
                      + [("kernel", 0), ("kernel", 1)])
    assert a.count("data:image/png;base64,") == len(frames)
    assert "_anim_slidert_0" in a  # ids made from name, not random
