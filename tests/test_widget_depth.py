"""The Jacobian-product explorer (book_tools/widgets/depth.py).

The three adjoint computations must agree over the range of every control; the
mean-field line must match the measured rate where the theory should hold, within the
finite-width scatter derived below (and not within it for a wrong line); a residual
branch of scale 1/sqrt(D) must keep the norms level where the plain network vanishes;
bad settings must be refused clearly; and the agreement check must fail when the hand
recursion is wrong.
"""

import math

import numpy as np
import pytest

pytest.importorskip("autograd")

from book_tools.widgets import depth as dw


def _values(name, count=None):
    lo, hi, step, _ = dw.CONTROLS[name]
    values = np.linspace(lo, hi, round((hi - lo) / step) + 1)
    if count is not None:             # an even sample of the slider's positions, ends kept
        values = values[np.round(np.linspace(0, len(values) - 1, count)).astype(int)]
    return [int(v) for v in values] if name == "depth" else list(values)


def _default(name):
    return dw.CONTROLS[name][3]


def _corners():
    ends = {name: dw.CONTROLS[name][:2] for name in dw.CONTROLS}
    return [(s, d, act, a) for s in ends["sigma_w"] for d in ends["depth"]
            for a in ends["alpha"] for act in dw.ACTIVATIONS]


# Every position of the depth slider, twenty of the seventy-six sigma_w positions and
# twenty-one of the 101 alpha positions (every 0.05), for every activation, plus every
# corner of the control box.
SETTINGS = (
    [(s, _default("depth"), act, _default("alpha"))
     for s in _values("sigma_w", 20) for act in dw.ACTIVATIONS]
    + [(_default("sigma_w"), d, act, _default("alpha"))
       for d in _values("depth") for act in dw.ACTIVATIONS]
    + [(_default("sigma_w"), _default("depth"), act, a)
       for a in _values("alpha", 21) for act in dw.ACTIVATIONS]
    + _corners())


def _assert_sound(r):
    depth = r["depth"]
    assert r["max_discrepancy"] < 1e-12, r["max_discrepancy"]
    for engine in dw.ENGINES:
        n = r["norms"][engine]
        assert n.shape == (depth + 1,) and np.all(np.isfinite(n)) and np.all(n > 0)
        assert n[-1] == pytest.approx(1.0)
    assert r["theory"].shape == (depth + 1,) and r["theory"][-1] == 1.0
    assert np.all(np.isfinite(r["theory"])) and np.all(r["theory"] > 0)
    assert r["chi"].shape == (depth,) and np.all(r["q"] > 0)
    if r["alpha"] > 0:            # the identity path: no residual block can lower chi below 1
        assert np.all(r["chi"] >= 1.0)


def test_every_control_over_its_range_three_engines_agree():
    for setting in SETTINGS:
        _assert_sound(dw.depth_report(*setting))


def test_the_controls_mean_what_they_say():
    # sigma_w scales the same matrices; depth cuts the same stack
    assert np.allclose(dw.network_weights(2.0, 3)[1], 2 * dw.network_weights(1.0, 3)[1])
    assert np.array_equal(dw.network_weights(1.0, 50)[:7], dw.network_weights(1.0, 7))
    # the linear plain network's line is sigma_w^(D - l) exactly (chi = sigma_w^2)
    r = dw.depth_report(0.5, 20, "linear", 0.0)
    np.testing.assert_allclose(r["theory"], 0.5 ** (20 - r["layers"]), rtol=1e-12)
    # and the residual one's is (1 + alpha^2 sigma_w^2)^((D - l)/2)
    r = dw.depth_report(0.5, 20, "linear", 0.3)
    np.testing.assert_allclose(r["theory"], (1 + 0.09 * 0.25) ** ((20 - r["layers"]) / 2),
                               rtol=1e-12)
    # the ReLU's mean squared slope is 1/2 at every scale; the smooth ones by quadrature
    assert dw.mean_squared_slope("relu", 3.7) == 0.5
    assert dw.mean_squared_slope("tanh", 1e-12) == pytest.approx(1.0, rel=1e-9)
    assert dw.mean_squared_slope("sigmoid", 1e-12) == pytest.approx(1 / 16, rel=1e-9)
    rng = np.random.default_rng(0)
    u = rng.normal(0.0, 1.5, 400_000)            # Monte Carlo, standard error ~ 1e-3
    assert dw.mean_squared_slope("tanh", 1.5 ** 2) == pytest.approx(
        np.mean(dw.SLOPES["tanh"](u) ** 2), abs=5e-3)


@pytest.mark.parametrize("activation, bump_area", [("tanh", 4 / 3), ("sigmoid", 1 / 6)])
def test_the_mean_squared_slope_is_right_for_saturated_units(activation, bump_area):
    # Large q (saturating layers, residual streams that grow with depth): the squared
    # slope is a bump of width ~1 under a Gaussian sqrt(q) wide, so E[act'(u)^2] tends
    # to (integral of act'^2) / sqrt(2 pi q): int sech^4 = 4/3, int sigmoid'^2 = 1/6.
    # A rule on the Gaussian's scale (80-node Gauss-Hermite) was 175x too small at q = 200.
    for q in [1e4, 1e6]:
        assert dw.mean_squared_slope(activation, q) == pytest.approx(
            bump_area / math.sqrt(2 * math.pi * q), rel=2 / q ** 0.5)
    u = np.random.default_rng(1).normal(0.0, math.sqrt(200.0), 1_000_000)
    monte_carlo = np.mean(dw.SLOPES[activation](u) ** 2)      # standard error < 1%
    assert dw.mean_squared_slope(activation, 200.0) == pytest.approx(monte_carlo, rel=0.04)


# Finite-width scatter, for the tolerance below.  Through one linear layer (the slopes
# are 1, or close to 1 for tanh at small sigma_w) the squared gain of a fixed vector is
# sigma_w^2 * chi2_n / n.  ln(chi2_n / n) has mean -1/n + O(n^-2) and variance
# 2/n + O(n^-2); halve both for the norm.  Over D layers the log of the measured norm at
# the input minus the log of the line is therefore about N(-D/(2n), D/(2n)): with
# n = 64, D = 50, mean -0.39, standard deviation 0.63 (200 random networks give -0.35
# and 0.59).  We accept three standard deviations around the mean.
def _band(depth):
    return -depth / (2 * dw.WIDTH), 3 * math.sqrt(depth / (2 * dw.WIDTH))


@pytest.mark.parametrize("activation, sigma_w, alpha", [
    ("linear", 0.5, 0.0), ("linear", 0.75, 0.0), ("linear", 1.5, 0.0), ("linear", 3.0, 0.0),
    ("tanh", 0.25, 0.0), ("tanh", 0.5, 0.0), ("tanh", 0.75, 0.0), ("tanh", 1.5, 0.0),
    ("tanh", 2.0, 0.0), ("sigmoid", 1.0, 0.0), ("relu", 1.0, 0.0), ("relu", 2.0, 0.0),
    ("tanh", 2.0, 1.0), ("tanh", 4.0, 1.0), ("relu", 1.0, 1.0)])
def test_the_mean_field_line_matches_the_measured_rate_where_it_should(activation, sigma_w,
                                                                      alpha):
    depth = 50
    r = dw.depth_report(sigma_w, depth, activation, alpha)
    centre, width = _band(depth)
    deviation = math.log(r["norms"]["by hand"][0] / r["theory"][0])
    assert abs(deviation - centre) < width, (deviation, centre, width)
    # The band is tight enough to catch a wrong line: chi^(D - l), the square root
    # forgotten, falls outside it at every one of these scales.
    forgot_root = math.log(r["norms"]["by hand"][0] / r["theory"][0] ** 2)
    assert abs(forgot_root - centre) > width


# A residual block multiplies the mean squared norm by 1 + alpha^2 sigma_w^2 E[act'^2]
# (at least 1, at most 1 + alpha^2 sigma_w^2 m with m = max E[act'^2]: 1 for tanh and
# linear, 1/2 for ReLU, 1/16 for the sigmoid); with alpha^2 = 1/D the product over D
# blocks lies between 1 and e^(sigma_w^2 m), a norm between 1 and e^(sigma_w^2 m / 2).
# Finite width scatters each block's log gain by about alpha sigma_w sqrt(m / n), so by
# sigma_w sqrt(m / n) <= 0.125 over the whole network at sigma_w = 1: three standard
# deviations are a factor e^0.375 < 1.5.
@pytest.mark.parametrize("activation, sigma_w, m", [
    ("sigmoid", 1.0, 1 / 16), ("sigmoid", 0.5, 1 / 16), ("relu", 1.0, 0.5),
    ("tanh", 0.5, 1.0), ("linear", 0.5, 1.0)])
def test_a_branch_of_scale_one_over_root_depth_keeps_the_norms_level(activation, sigma_w, m):
    depth = 50
    plain = dw.depth_report(sigma_w, depth, activation, 0.0)["norms"]["by hand"]
    assert plain[0] < 1e-6                   # the plain network, same weights, has vanished
    res = dw.depth_report(sigma_w, depth, activation, 1 / math.sqrt(depth))["norms"]["by hand"]
    assert res.min() > 1 / 1.5, res.min()
    assert res.max() < math.exp(sigma_w ** 2 * m / 2) * 1.5, res.max()


def test_the_agreement_check_catches_a_wrong_hand_recursion(monkeypatch):
    def forgot_the_transpose(weights, activation, alpha, X, r):
        return original([W.T for W in weights], activation, alpha, X, r)

    def forgot_the_identity(weights, activation, alpha, X, r):
        adjoints = original(weights, activation, alpha, X, r)
        return [a - adjoints[-1] if k < len(adjoints) - 1 else a
                for k, a in enumerate(adjoints)]

    original = dw.adjoints_by_hand
    for wrong, alpha in [(forgot_the_transpose, 0.0), (forgot_the_identity, 0.2)]:
        monkeypatch.setattr(dw, "adjoints_by_hand", wrong)
        report = dw.depth_report(1.0, 10, "tanh", alpha)
        assert report["max_discrepancy"] > 1e-3, wrong.__name__
        with pytest.raises(AssertionError, match="disagree"):
            dw.build_fallback(values=[alpha], depth=10)
    monkeypatch.setattr(dw, "adjoints_by_hand", original)
    assert dw.depth_report(1.0, 10, "tanh", 0.2)["max_discrepancy"] < 1e-12


@pytest.mark.parametrize("kwargs, error, message", [
    ({"sigma_w": 0.0}, ValueError, "sigma_w.*positive"),
    ({"sigma_w": -1.0}, ValueError, "sigma_w.*positive"),
    ({"sigma_w": float("nan")}, ValueError, "sigma_w.*positive"),
    ({"sigma_w": "1"}, TypeError, "sigma_w.*number"),
    ({"depth": 0}, ValueError, "depth must be from 1 to 50"),
    ({"depth": 51}, ValueError, "depth must be from 1 to 50"),
    ({"depth": 2.5}, TypeError, "whole number"),
    ({"depth": True}, TypeError, "whole number"),
    ({"activation": "ReLU"}, ValueError, "activation must be one of"),
    ({"alpha": -0.1}, ValueError, "alpha.*>= 0"),
    ({"alpha": float("inf")}, ValueError, "alpha.*>= 0"),
    ({"alpha": None}, TypeError, "alpha.*number"),
    ({"sigma_w": 1e8, "depth": 50, "activation": "linear"}, OverflowError, "overflowed.*use a smaller sigma_w"),
])
def test_bad_settings_are_refused_with_a_clear_message(kwargs, error, message):
    with pytest.raises(error, match=message):
        dw.depth_report(**kwargs)


def test_the_alt_text_says_what_the_picture_shows():
    r = dw.depth_report(1.0, 50, "sigmoid", 0.0)
    alt = dw.alt_text(r)
    assert "50-layer sigmoid network, plain" in alt and "shrinks" in alt
    assert f"{r['rate']:.3f} per layer" in alt and len(alt.split()) >= 10
    assert dw.picture_html(r).startswith('<img alt="Adjoint norm')
    assert "α√D = 1.00" in dw.alt_text(dw.depth_report(1.0, 25, "tanh", 0.2))


def test_the_widget_reacts_to_every_control():
    pytest.importorskip("ipywidgets")
    ui = dw.build_widget()
    for name, (lo, hi, step, default) in dw.CONTROLS.items():
        s = ui.sliders[name]
        assert (s.min, s.max, s.step, s.value) == (lo, hi, step, default)
    seen = {ui.panel.value}
    for name, slider in ui.sliders.items():
        slider.value = dw.CONTROLS[name][1]
        assert ui.report()[name] == pytest.approx(dw.CONTROLS[name][1])
        seen.add(ui.panel.value)
    assert [v for _, v in ui.activation.options] == list(dw.ACTIVATIONS)
    ui.activation.value = "relu"
    assert ui.report()["activation"] == "relu"
    seen.add(ui.panel.value)
    assert len(seen) == 5


def test_the_fallback_is_deterministic():
    pytest.importorskip("IPython")
    first = dw.build_fallback(values=[0.0, 0.5], depth=10).data
    assert first == dw.build_fallback(values=[0.0, 0.5], depth=10).data
    assert first.count("data:image/png;base64") == 2
    with pytest.raises(ValueError, match="sweep"):
        dw.build_fallback(sweep="width")


# With alpha^2 = 1/D a block's squared gain is 1 + 2 alpha c + O(alpha^2), where the
# cross term c = hbar . W diag(act') hbar / |hbar|^2 has mean 0 and variance about
# sigma_w^2 m / n (m = E[act'^2] <= 1).  Over D blocks the log of the norm scatters
# around the line by about sqrt(D alpha^2 sigma_w^2 m / n) = sigma_w sqrt(m / n), at
# most 0.125 at sigma_w = 1 and n = 64 (60 random networks: 0.10 for tanh and ReLU);
# three standard deviations are 0.375.
@pytest.mark.parametrize("activation", list(dw.ACTIVATIONS))
def test_the_mean_field_line_holds_for_a_small_branch(activation):
    depth, sigma_w = 50, 1.0
    r = dw.depth_report(sigma_w, depth, activation, 1 / math.sqrt(depth))
    deviation = math.log(r["norms"]["by hand"][0] / r["theory"][0])
    assert abs(deviation) < 3 * sigma_w * math.sqrt(1 / dw.WIDTH), deviation


# Where few units carry the adjoint (saturated tanh and sigmoid at sigma_w = 4) one
# network of width 64 sits further below the line than the linear band allows (the
# chapter's fixed weights: a factor 0.37 and 0.26).  That is finite width, not a wrong
# line: the typical offset shrinks like 1/n (median over 8 networks at D = 50: about
# -1.4 and -1.1 at n = 64, -0.2 at n = 256).
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_saturated_network_misses_the_line_by_finite_width_only(activation):
    depth, sigma_w = 50, 4.0

    def median_log_offset(width):
        offsets = []
        for seed in range(8):
            rng = np.random.default_rng(seed)
            weights = [sigma_w / math.sqrt(width) * rng.standard_normal((width, width))
                       for _ in range(depth)]
            X = rng.standard_normal((dw.BATCH, width))
            r = rng.standard_normal(width) / math.sqrt(width)
            measured = dw._rms_ratio(dw.adjoints_by_hand(weights, activation, 0.0, X, r))
            line = dw.theory_line(weights, activation, 0.0, X, sigma_w)[0]
            offsets.append(math.log(measured[0] / line[0]))
        return float(np.median(offsets))

    narrow, wide = median_log_offset(64), median_log_offset(256)
    assert narrow < -0.6, narrow
    assert abs(wide) < abs(narrow) / 2.5, (narrow, wide)


def test_the_axis_fits_the_curves():
    # a fixed 70-decade axis made a curve from 4e-8 to 1 look flat
    r = dw.depth_report(1.0, 50, "relu", 0.0)
    low, high = dw.y_limits([r])
    assert low <= r["norms"]["by hand"].min() and high >= 1.0
    assert math.log10(high / low) <= 12
    both = dw.y_limits([r, dw.depth_report(1.0, 50, "relu", 1.0)])
    assert both[0] <= low and both[1] > 1e4          # one axis for every frame
