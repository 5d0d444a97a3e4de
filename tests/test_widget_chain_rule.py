"""The chain-rule widget of chapter 1 (book_tools/widgets/chain_rule.py).

The computation is checked over the whole range of every slider (read from the built
widget, so the test follows the UI), on a grid of the sliders' extremes, and exactly
on the ReLU kink; the UI must react to a slider; the fallback must be a player.
"""

import itertools
import math

import numpy as np
import pytest

pytest.importorskip("autograd")

from book_tools.widgets import chain_rule as cr

# ipywidgets is needed only by the tests that build the widget (they skip without it);
# the computations behind it are tested either way.


def _slider_values(slider):
    n = round((slider.max - slider.min) / slider.step) + 1
    return np.linspace(slider.min, slider.max, n)


def _report(s, b=cr.FIXED["b"], c=cr.FIXED["c"], y=cr.FIXED["y"]):
    return cr.chain_rule_report(s["x"], (s["u1"], s["u2"]), b, (s["v1"], s["v2"]), c, y)


def _assert_sound(report):
    """No NaN anywhere, and the three ways of computing each gradient agree."""
    f = report["forward"]
    assert np.all(np.isfinite(f["z"])) and np.all(np.isfinite(f["h"]))
    assert math.isfinite(f["y_hat"]) and math.isfinite(f["L"])
    for p in report["paths"]:
        assert all(math.isfinite(t) for t in p["factors"]) and math.isfinite(p["product"])
    g = report["gradients"]
    assert set(g) == set(cr.ENGINES)
    for engine in cr.ENGINES:
        assert list(g[engine]) == list(cr.GRAD_NAMES)
        assert all(math.isfinite(v) for v in g[engine].values()), (engine, g[engine])
    ref = np.array(list(g["autograd"].values()))
    for engine in ("mini_autograd", "chain rule"):
        np.testing.assert_allclose(np.array(list(g[engine].values())), ref,
                                   rtol=1e-12, atol=1e-12, err_msg=engine)
    assert report["max_discrepancy"] < 1e-12


@pytest.fixture(scope="module")
def ui():
    pytest.importorskip("ipywidgets")
    return cr.chain_rule_widget()


def test_sliders_match_the_control_table(ui):
    assert list(ui.sliders) == list(cr.CONTROLS)
    for name, (lo, hi, step, default) in cr.CONTROLS.items():
        s = ui.sliders[name]
        assert (s.min, s.max, s.step, s.value) == (lo, hi, step, default)


@pytest.mark.parametrize("name", list(cr.CONTROLS))
def test_report_over_the_whole_range_of_each_control(ui, name):
    defaults = {k: v[3] for k, v in cr.CONTROLS.items()}
    values = _slider_values(ui.sliders[name])
    assert values[0] == ui.sliders[name].min and values[-1] == ui.sliders[name].max
    for value in values:
        _assert_sound(_report(dict(defaults, **{name: float(value)})))


def test_report_on_the_grid_of_slider_extremes(ui):
    axes = [(s.min, 0.0, s.max) for s in ui.sliders.values()]
    for combo in itertools.product(*axes):
        _assert_sound(_report(dict(zip(ui.sliders, combo))))


@pytest.mark.parametrize("x", [-2.0, -0.7, 0.0, 0.3, 2.0])
@pytest.mark.parametrize("u1", [-2.0, 0.5, 1.0, 2.0])
def test_report_exactly_on_the_relu_kink(x, u1):
    # b1 = -u1 x puts unit 1 exactly at z1 = 0: ReLU'(0) is taken as 0 everywhere.
    report = cr.chain_rule_report(x, (u1, -1.0), (-(u1 * x), 0.5), (1.0, -0.5))
    assert report["forward"]["z"][0] == 0.0
    assert report["local"]["dh/dz"][0] == 0.0 and not report["paths"][0]["active"]
    _assert_sound(report)
    for engine in cr.ENGINES:
        assert report["gradients"][engine]["u1"] == 0.0
        assert report["gradients"][engine]["b1"] == 0.0


def test_report_values_by_hand():
    # x = 1: z = (1.5, -0.5), h = (1.5, 0), y_hat = 1.5, L = 0.125, dL/dy_hat = 0.5
    r = cr.chain_rule_report(1.0, (1.0, -1.0), (0.5, 0.5), (1.0, -0.5), 0.0, 1.0)
    assert r["forward"]["y_hat"] == 1.5 and r["forward"]["L"] == 0.125
    assert r["paths"][0]["factors"] == (0.5, 1.0, 1.0, 1.0)
    assert r["paths"][1]["product"] == 0.0
    expected = {"x": 0.5, "u1": 0.5, "u2": 0.0, "b1": 0.5, "b2": 0.0, "v1": 0.75,
                "v2": 0.0, "c": 0.5}
    assert r["gradients"]["chain rule"] == expected


def test_report_rejects_the_wrong_number_of_units():
    with pytest.raises(ValueError, match="u must hold 2 numbers"):
        cr.chain_rule_report(1.0, (1.0, 2.0, 3.0))


def test_moving_a_slider_updates_the_table(ui):
    before = ui.table.value
    assert "Gradients" in before and "all three agree" in before
    ui.sliders["x"].value = -1.5
    after = ui.table.value
    assert after != before and "all three agree" in after
    # the table shows the numbers of the new setting
    r = cr.chain_rule_report(-1.5, (ui.sliders["u1"].value, ui.sliders["u2"].value),
                             cr.FIXED["b"], (ui.sliders["v1"].value, ui.sliders["v2"].value))
    assert cr._num(r["forward"]["y_hat"]) in after
    for name, slider in ui.sliders.items():  # every slider, to both ends
        for value in (slider.min, slider.max):
            slider.value = value
            assert "all three agree" in ui.table.value, (name, value)


def test_widget_html_has_no_tex():
    # the book's browser test flags raw TeX in a page; the table uses Unicode only
    html = cr.report_html(cr.chain_rule_report(0.3))
    for tex in ("$", "\\frac", "\\partial", "\\("):
        assert tex not in html


def test_widget_rejects_unknown_controls():
    pytest.importorskip("ipywidgets")
    with pytest.raises(ValueError, match="unknown controls"):
        cr.chain_rule_widget(w=1.0)


def test_fallback_is_a_deterministic_player():
    pytest.importorskip("matplotlib")
    pytest.importorskip("IPython")
    a = cr.chain_rule_animation(n_frames=3, span=(-1.0, 1.0), name="t").data
    b = cr.chain_rule_animation(n_frames=3, span=(-1.0, 1.0), name="t").data
    assert a == b
    assert 'type="range" class="anim-slider"' in a  # the scrub slider
    assert a.count("data:image/png;base64,") == 3
    assert "_anim_slidert_0" in a  # ids made from name, not random
