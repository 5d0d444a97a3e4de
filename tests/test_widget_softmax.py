"""The softmax-gradient widget (book_tools/widgets/softmax.py).

The computation is checked over the whole range of every control (read from the built
widget, so the test follows the UI), at the corners of the control space, and far
beyond the sliders (logits of +-1000); the UI must react to every control; the
fallback must be a deterministic player.
"""

import itertools
import math

import numpy as np
import pytest

pytest.importorskip("autograd")

from book_tools.widgets import softmax as sw

# ipywidgets is needed only by the tests that build the widget (they skip without it);
# the computations behind it are tested either way.


def _slider_values(slider):
    n = round((slider.max - slider.min) / slider.step) + 1
    values = np.linspace(slider.min, slider.max, n)
    if type(slider).__name__ == "FloatLogSlider":
        values = slider.base ** values
    return values


def _assert_sound(report):
    """No NaN anywhere; p is a distribution; the three gradients agree and equal (p - y)/T."""
    z, c, t = report["logits"], report["true_class"], report["temperature"]
    for key in ("scaled", "p", "y", "p_minus_y"):
        assert np.all(np.isfinite(report[key])), (key, report[key])
    assert math.isfinite(report["loss"]) and report["loss"] >= 0.0
    p = report["p"]
    assert np.all(p >= 0) and abs(p.sum() - 1.0) < 1e-12
    assert report["y"][c] == 1.0 and report["y"].sum() == 1.0
    assert set(report["grad"]) == set(sw.ENGINES)
    expected = (p - report["y"]) / t
    # log softmax(s) = s - logsumexp(s) is only as accurate as s itself, so the engines
    # may differ by a few ulps of max|s| (then divided by T): the conditioning, not a bug.
    atol = 64 * np.finfo(float).eps * (1.0 + float(np.max(np.abs(report["scaled"])))) / t
    for engine in sw.ENGINES:
        g = report["grad"][engine]
        assert g.shape == z.shape and np.all(np.isfinite(g)), (engine, g)
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=atol, err_msg=engine)
    assert report["max_discrepancy"] <= atol + 1e-12 * float(np.max(np.abs(expected)))
    # the gradient of anything computed from softmax sums to zero (J 1 = 0)
    assert abs(report["grad"]["autograd"].sum()) <= 4 * atol


@pytest.fixture(scope="module")
def ui():
    pytest.importorskip("ipywidgets")
    return sw.build_widget()


def _defaults():
    return [sw.CONTROLS[n][3] for n in sw.LOGIT_NAMES]


def test_sliders_match_the_control_table(ui):
    assert list(ui.sliders) == [*sw.LOGIT_NAMES, "T"]
    for name, (lo, hi, step, default) in sw.CONTROLS.items():
        s = ui.sliders[name]
        assert (s.min, s.max, s.step, s.value) == (lo, hi, step, default)
    t = ui.sliders["T"]
    assert (t.min, t.max, t.step) == sw.TEMPERATURE_LOG10 and t.value == sw.DEFAULT_TEMPERATURE
    assert [v for _, v in ui.true_class.options] == list(range(sw.N_CLASSES))
    sh = ui.shift
    assert (sh.min, sh.max, sh.step, sh.value) == sw.SHIFT


def test_shift_all_changes_nothing_but_the_unshifted_formula(ui):
    ui.sliders["T"].value = 0.01
    ui.true_class.value = 0
    ui.shift.value = 0.0
    before = ui.panel.value
    assert "unshifted exp(z/T)/sum formula is finite here" in before
    ui.shift.value = 10.0  # z/T = 1200: p, loss and gradient unchanged, exp overflows
    after = ui.panel.value
    assert "gives inf/nan here" in after and "all three agree" in after
    r0 = sw.softmax_report(_defaults(), 0, 0.01)
    r1 = sw.softmax_report([v + 10.0 for v in _defaults()], 0, 0.01)
    assert f"{r0['loss']:.4f}" in after and f"{r1['loss']:.4f}" == f"{r0['loss']:.4f}"
    np.testing.assert_allclose(r1["grad"]["autograd"], r0["grad"]["autograd"], atol=1e-9)
    ui.shift.value, ui.sliders["T"].value = 0.0, 1.0


def test_log_of_softmax_breaks_in_the_chapters_three_stages():
    # z/T gaps of 710 and 750 below the top logit: past -1/p_c's overflow (709.78),
    # then past the underflow of p_c itself (745.1)
    fine = sw.softmax_report([2.0, 1.0, 0.1, -1.0], 3, 0.01)
    assert fine["log_of_softmax_grad_finite"] and math.isclose(fine["log_of_softmax"], 300.0)
    grad_gone = sw.softmax_report([2.0, 1.0, 0.1, -5.2], 3, 0.01)
    assert not grad_gone["log_of_softmax_grad_finite"]
    assert math.isclose(grad_gone["log_of_softmax"], grad_gone["loss"], rel_tol=1e-9)
    value_gone = sw.softmax_report([2.0, 1.0, 0.1, -5.5], 3, 0.01)
    assert math.isinf(value_gone["log_of_softmax"]) and math.isfinite(value_gone["loss"])
    html = sw.report_html(grad_gone)
    assert "log(softmax(z/T))" in html and "NaN" in html


@pytest.mark.parametrize("name", sw.LOGIT_NAMES)
@pytest.mark.parametrize("temperature", ["smallest", 1.0, "largest"])
def test_report_over_the_whole_range_of_each_logit(ui, name, temperature):
    t = {"smallest": 10 ** sw.TEMPERATURE_LOG10[0],
         "largest": 10 ** sw.TEMPERATURE_LOG10[1]}.get(temperature, temperature)
    values = _slider_values(ui.sliders[name])
    assert values[0] == ui.sliders[name].min and values[-1] == ui.sliders[name].max
    i = sw.LOGIT_NAMES.index(name)
    for value in values:
        z = _defaults()
        z[i] = float(value)
        _assert_sound(sw.softmax_report(z, (i + 1) % sw.N_CLASSES, t))


@pytest.mark.parametrize("true_class", range(sw.N_CLASSES))
def test_report_over_the_whole_temperature_range(ui, true_class):
    values = _slider_values(ui.sliders["T"])
    assert math.isclose(values[0], 0.01) and math.isclose(values[-1], 10.0)
    for t in values:
        for z in (_defaults(), [20.0, -20.0, 20.0, -20.0], [-20.0] * 4):
            _assert_sound(sw.softmax_report(z, true_class, float(t)))


def test_report_at_the_corners_of_the_controls():
    ends = (-20.0, 0.0, 20.0)
    for combo in itertools.product(ends, repeat=sw.N_CLASSES):
        for t in (0.01, 1.0, 10.0):
            for c in range(sw.N_CLASSES):
                _assert_sound(sw.softmax_report(combo, c, t))


@pytest.mark.parametrize("z", [[1000.0, -1000.0, 0.0, 5.0], [-1000.0] * 4, [1000.0] * 4,
                               [1000.0, 1000.0, -1000.0, -1000.0]])
@pytest.mark.parametrize("t", [0.01, 1.0, 10.0])
def test_report_far_beyond_the_sliders(z, t):
    for c in range(4):
        r = sw.softmax_report(z, c, t)
        _assert_sound(r)
        assert not r["naive_finite"] or max(z) / t < sw.EXP_OVERFLOW


def test_report_values_by_hand():
    # equal logits: p uniform, loss log 4, gradient (1/4 - y) / T
    r = sw.softmax_report([0.0, 0.0, 0.0, 0.0], 2, 0.5)
    np.testing.assert_allclose(r["p"], 0.25)
    assert math.isclose(r["loss"], math.log(4.0))
    np.testing.assert_allclose(r["grad"]["autograd"], [0.5, 0.5, -1.5, 0.5])
    # adding a constant to every logit changes nothing
    a, b = sw.softmax_report([2.0, 1.0, 0.1, -1.0]), sw.softmax_report([12.0, 11.0, 10.1, 9.0])
    np.testing.assert_allclose(a["p"], b["p"], rtol=1e-12)
    np.testing.assert_allclose(a["grad"]["mini_autograd"], b["grad"]["mini_autograd"],
                               rtol=1e-12, atol=1e-15)
    assert r["naive_finite"] and not sw.softmax_report([800.0, 0, 0, 0])["naive_finite"]


def test_report_rejects_bad_input():
    with pytest.raises(ValueError, match="true_class must be an integer"):
        sw.softmax_report([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="temperature must be a positive"):
        sw.softmax_report([1.0, 2.0], 0, 0.0)
    with pytest.raises(ValueError, match="1-D array of at least 2"):
        sw.softmax_report([[1.0, 2.0]], 0)
    with pytest.raises(ValueError, match="finite"):
        sw.softmax_report([1.0, np.inf], 0)


def test_moving_a_control_updates_the_panel(ui):
    before = ui.panel.value
    assert "Gradient of L" in before and "all three agree" in before
    ui.sliders["z1"].value = 5.0
    after = ui.panel.value
    assert after != before and "all three agree" in after
    z = [ui.sliders[n].value for n in sw.LOGIT_NAMES]
    r = sw.softmax_report(z, ui.true_class.value, ui.sliders["T"].value)
    assert f"{r['loss']:.4f}" in after
    ui.true_class.value = 3
    assert "3 (true)" in ui.panel.value and ui.panel.value != after
    for name, slider in ui.sliders.items():  # every control, to both ends
        for value in (slider.min, slider.max):
            slider.value = slider.base ** value if name == "T" else value
            assert "all three agree" in ui.panel.value, (name, value)
    for c in range(sw.N_CLASSES):
        ui.true_class.value = c
        assert f"{c} (true)" in ui.panel.value and "all three agree" in ui.panel.value
    ui.sliders["T"].value = 0.01  # z/T = 20/0.01 = 2000: the naive formula overflows
    assert "gives inf/nan here" in ui.panel.value and "all three agree" in ui.panel.value


def test_widget_html_has_no_tex():
    html = sw.report_html(sw.softmax_report([0.3, -1.0, 2.0, 0.0], 1, 2.0))
    for tex in ("$", "\\frac", "\\partial", "\\("):
        assert tex not in html


def test_widget_rejects_bad_start_values():
    pytest.importorskip("ipywidgets")
    with pytest.raises(ValueError, match="4 logit sliders"):
        sw.build_widget(logits=[1.0, 2.0])


@pytest.mark.parametrize("sweep", ["z0", "T"])
def test_fallback_is_a_deterministic_player(sweep):
    pytest.importorskip("matplotlib")
    pytest.importorskip("IPython")
    a = sw.build_fallback(sweep=sweep, n_frames=3, name="t").data
    b = sw.build_fallback(sweep=sweep, n_frames=3, name="t").data
    assert a == b
    assert 'type="range" class="anim-slider"' in a  # the scrub slider
    assert a.count("data:image/png;base64,") == 3
    assert "_anim_slidert_0" in a  # ids made from name, not random


def test_fallback_rejects_unknown_sweep():
    with pytest.raises(ValueError, match="sweep must be one of"):
        sw.build_fallback(sweep="w")


# ------------------------------------------------------------------ over whole ranges

def _shifts():
    """Every value of the "shift all" slider (test_sliders_match_the_control_table
    checks that the slider is built from sw.SHIFT)."""
    lo, hi, step, _ = sw.SHIFT
    shifts = np.linspace(lo, hi, round((hi - lo) / step) + 1)
    assert shifts[0] == lo and shifts[-1] == hi and 0.0 in shifts
    return shifts


@pytest.mark.parametrize("temperature", [0.01, 1.0, 10.0])
def test_shift_all_changes_nothing_over_its_whole_range(temperature):
    """p, the loss and every engine's gradient are invariant to the shift, up to the
    rounding of z/T (a few ulps of max|z/T|, divided by T for the gradient)."""
    z = np.array(_defaults())
    for c in range(sw.N_CLASSES):
        base = sw.softmax_report(z, c, temperature)
        for shift in _shifts():
            r = sw.softmax_report(z + shift, c, temperature)
            _assert_sound(r)
            tol = 64 * np.finfo(float).eps * (1.0 + float(np.max(np.abs(r["scaled"]))))
            np.testing.assert_allclose(r["p"], base["p"], rtol=tol)
            assert abs(r["loss"] - base["loss"]) <= tol, shift
            for engine in sw.ENGINES:
                np.testing.assert_allclose(r["grad"][engine], base["grad"][engine],
                                           rtol=0, atol=tol / temperature, err_msg=engine)
            # log(softmax) too: it is shift-invariant wherever it is finite
            if np.isfinite(base["log_of_softmax"]):
                assert abs(r["log_of_softmax"] - base["log_of_softmax"]) <= tol + 1e-9 * abs(
                    base["loss"]), shift


def test_log_of_softmax_over_the_chapters_three_stages():
    """z = a (1, 0, 0, -1), true class 3, T = 1: p_3 ~ e^(-2a), chapter 5's table.

    Checked against criteria independent of the code: the value is right while p_3 is a
    normal double and inf once it is 0, in between its error is the rounding of p_3 to
    the subnormal grid; the gradient is finite exactly when -1/p_3 does not overflow,
    and autograd agrees with mini_autograd on that.
    """
    import warnings

    import autograd
    import autograd.numpy as anp
    import autograd.scipy.special as asp

    from mini_autograd import nn

    softmax_ag = nn.layers_for(anp, asp.logsumexp).softmax
    tiny, huge = np.finfo(float).tiny, np.finfo(float).max
    smallest = np.nextafter(0.0, 1.0)  # 2^-1074, the spacing of the subnormals
    stages = set()
    for a in np.arange(340.0, 390.0, 0.25):
        z = a * np.array([1.0, 0.0, 0.0, -1.0])
        r = sw.softmax_report(z, 3, 1.0)
        e = np.exp(z - z.max())
        p3 = e[3] / e.sum()
        value, finite = r["log_of_softmax"], r["log_of_softmax_grad_finite"]
        if p3 >= tiny:
            assert abs(value - r["loss"]) <= 1e-12 * r["loss"], a
        elif p3 == 0.0:
            assert math.isinf(value), a
        else:  # exp rounds p_3 to the grid once, the division once more
            assert abs(value - r["loss"]) <= (smallest / p3) * (1 + 1e-3) + 1e-13 * r["loss"]
        if p3 > 2 / huge:
            assert finite, a
        elif p3 < 0.5 / huge:
            assert not finite, a
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            g_ag = autograd.grad(lambda zz: -anp.log(softmax_ag(zz)[3]))(z)
        assert bool(np.all(np.isfinite(g_ag))) == finite, a
        off = np.isfinite(value) and abs(value - r["loss"]) > 1e-9 * r["loss"]
        stages.add(("inf" if np.isinf(value) else "off" if off else "right", finite))
        assert math.isclose(r["loss"], 2 * a, rel_tol=1e-15)
    # every stage reached: right with its gradient, right without, off, inf
    assert stages == {("right", True), ("right", False), ("off", False), ("inf", False)}
    r372 = sw.softmax_report(372.0 * np.array([1.0, 0.0, 0.0, -1.0]), 3)
    assert math.isclose(r372["log_of_softmax"], 1073 * math.log(2))  # p_3 -> 2^-1073
