"""The chain-rule widget of chapter 1 (book_tools/widgets/chain_rule.py).

The computation is checked over the whole range of every slider (read from the built
widget, so the test follows the UI), on a grid of the sliders' extremes, and exactly
on the ReLU kink.  The backward signal delta_j is checked where the chapter says it
is used (dL/du_j, dL/db_j and dL/dx, read from the engines, not from the hand code);
the tangent slope against central differences of L; the kinks against one-sided
difference quotients.  The UI must react to a slider; the fallback must be a player
that marks the kinks.
"""

import base64
import io
import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("autograd")

from book_tools.widgets import chain_rule as cr

# ipywidgets is needed only by the tests that build the widget (they skip without it);
# the computations behind it are tested either way.

DEFAULTS = {k: v[3] for k, v in cr.CONTROLS.items()}
CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "01_chain_rule.ipynb"


def _slider_values(slider):
    n = round((slider.max - slider.min) / slider.step) + 1
    return np.linspace(slider.min, slider.max, n)


def _report(s, b=cr.FIXED["b"], c=cr.FIXED["c"], y=cr.FIXED["y"]):
    return cr.chain_rule_report(s["x"], (s["u1"], s["u2"]), b, (s["v1"], s["v2"]), c, y)


def _assert_sound(report):
    """No NaN anywhere, the three ways agree, and delta sits where the chapter says."""
    f = report["forward"]
    assert np.all(np.isfinite(f["z"])) and np.all(np.isfinite(f["h"]))
    assert math.isfinite(f["y_hat"]) and math.isfinite(f["L"])
    assert np.all(np.isfinite(report["delta"])) and math.isfinite(report["error"])
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
    _assert_delta_used_three_times(report)


def _assert_delta_used_three_times(report):
    """delta_j = e v_j relu'(z_j) gives dL/du_j, dL/db_j and dL/dx, per autograd."""
    inputs, ag = report["inputs"], report["gradients"]["autograd"]
    z = report["forward"]["z"]
    error = report["forward"]["y_hat"] - inputs["y"]
    assert report["error"] == error
    delta = report["delta"]
    np.testing.assert_array_equal(delta, error * inputs["v"] * (z > 0))
    for j, use in zip((1, 2), report["uses"]):
        assert use["delta"] == delta[j - 1]
        assert math.isclose(ag[f"u{j}"], delta[j - 1] * inputs["x"], abs_tol=1e-12)
        assert math.isclose(ag[f"b{j}"], delta[j - 1], abs_tol=1e-12)
        assert (use["du"], use["db"], use["dx_share"]) == pytest.approx(
            (delta[j - 1] * inputs["x"], delta[j - 1], delta[j - 1] * inputs["u"][j - 1]),
            abs=1e-15)
    assert math.isclose(ag["x"], float(delta @ inputs["u"]), abs_tol=1e-12)
    # the output layer sees e alone: dL/dc = e, dL/dv_j = e h_j
    assert math.isclose(ag["c"], error, abs_tol=1e-12)
    np.testing.assert_allclose([ag["v1"], ag["v2"]], error * report["forward"]["h"],
                               atol=1e-12)


@pytest.fixture(scope="module")
def ui():
    pytest.importorskip("ipywidgets")
    return cr.chain_rule_widget()


def test_sliders_match_the_control_table(ui):
    assert list(ui.sliders) == list(cr.CONTROLS)
    for name, (lo, hi, step, default) in cr.CONTROLS.items():
        s = ui.sliders[name]
        assert (s.min, s.max, s.step, s.value) == (lo, hi, step, default)
    assert [value for _, value in ui.against.options] == list(cr.CONTROLS)


@pytest.mark.parametrize("name", list(cr.CONTROLS))
def test_report_over_the_whole_range_of_each_control(ui, name):
    values = _slider_values(ui.sliders[name])
    assert values[0] == ui.sliders[name].min and values[-1] == ui.sliders[name].max
    for value in values:
        _assert_sound(_report(dict(DEFAULTS, **{name: float(value)})))


def test_report_on_the_grid_of_slider_extremes(ui):
    axes = [(s.min, 0.0, s.max) for s in ui.sliders.values()]
    for combo in itertools.product(*axes):
        _assert_sound(_report(dict(zip(ui.sliders, combo))))


@pytest.mark.parametrize("x", [-2.0, -0.7, 0.0, 0.3, 2.0])
@pytest.mark.parametrize("u1", [-2.0, 0.5, 1.0, 2.0])
def test_report_exactly_on_the_relu_kink(x, u1):
    # b1 = -u1 x puts unit 1 exactly at z1 = 0: ReLU'(0) is taken as 0 everywhere,
    # so delta_1 = 0 and all three of its uses vanish together.
    report = cr.chain_rule_report(x, (u1, -1.0), (-(u1 * x), 0.5), (1.0, -0.5))
    assert report["forward"]["z"][0] == 0.0
    assert report["relu_slope"][0] == 0.0 and not report["uses"][0]["active"]
    assert report["delta"][0] == 0.0
    _assert_sound(report)
    for engine in cr.ENGINES:
        assert report["gradients"][engine]["u1"] == 0.0
        assert report["gradients"][engine]["b1"] == 0.0


def test_report_values_by_hand_at_the_defaults():
    # x = 0.3, u = (1, -1), b = (0.5, 0.5): z = (0.8, 0.2), both units on, h = z.
    # y_hat = 1.5 * 0.8 + 2 * 0.2 = 1.6, e = 0.6, L = 0.18; delta = 0.6 * (1.5, 2) =
    # (0.9, 1.2); dL/du = 0.3 delta = (0.27, 0.36); dL/dx = 0.9 - 1.2 = -0.3.
    assert DEFAULTS == {"x": 0.3, "u1": 1.0, "u2": -1.0, "v1": 1.5, "v2": 2.0}
    r = cr.chain_rule_report()
    np.testing.assert_allclose(r["forward"]["z"], [0.8, 0.2], rtol=1e-15)
    assert r["forward"]["y_hat"] == pytest.approx(1.6, abs=1e-15)
    assert r["forward"]["L"] == pytest.approx(0.18, abs=1e-15)
    np.testing.assert_allclose(r["delta"], [0.9, 1.2], rtol=1e-14)
    expected = {"x": -0.3, "u1": 0.27, "u2": 0.36, "b1": 0.9, "b2": 1.2, "v1": 0.48,
                "v2": 0.12, "c": 0.6}
    for name, value in expected.items():
        assert r["gradients"]["chain rule"][name] == pytest.approx(value, abs=1e-14)


def test_report_rejects_the_wrong_number_of_units():
    with pytest.raises(ValueError, match="u must hold 2 numbers"):
        cr.chain_rule_report(1.0, (1.0, 2.0, 3.0))


# ------------------------------------------------------------------ tangents and kinks

# L is a quadratic in any one control between kinks: central differences with step H are
# exact there up to rounding, one-sided ones off by H times the curvature.
H = 1e-5


@pytest.mark.parametrize("sweep", list(cr.CONTROLS))
@pytest.mark.parametrize("setting", [DEFAULTS, dict(DEFAULTS, x=-1.2, v2=-0.7),
                                     dict(DEFAULTS, u1=-1.6, v1=-2.0, x=1.1)])
def test_tangent_slope_is_the_slope_of_L_away_from_kinks(sweep, setting):
    lo, hi = cr.CONTROLS[sweep][:2]
    values = np.linspace(lo, hi, 23)
    others = {k: v for k, v in setting.items() if k != sweep}
    data = cr.sweep_report(sweep, values, **others)
    at = [k for _, k in cr.kinks(sweep, **others)]
    checked = 0
    for t, slope in zip(values, data["slope"]):
        if any(abs(t - k) < 10 * H for k in at):
            continue
        up, down = cr.loss_along(sweep, [t + H, t - H], **others)
        assert slope == pytest.approx((up - down) / (2 * H), rel=1e-6, abs=1e-8), (sweep, t)
        checked += 1
    assert checked >= len(values) - 2
    # the slope is each report's gradient (so the three ways agree on it too)
    for r, slope in zip(data["reports"], data["slope"]):
        assert slope == r["gradients"]["autograd"][sweep]


def test_kinks_are_where_a_unit_switches():
    assert cr.kinks("x") == [(1, -0.5), (2, 0.5)]            # z_j = u_j x + 0.5 = 0
    assert cr.kinks("u1") == [(1, -0.5 / DEFAULTS["x"])]      # z_1 = u_1 x + 0.5 = 0
    assert cr.kinks("v1") == [] and cr.kinks("v2") == []     # v does not move z
    assert cr.kinks("x", u1=0.0) == [(2, 0.5)]               # z_1 = 0.5 whatever x is
    assert cr.kinks("u2", x=0.0) == []
    for sweep in cr.CONTROLS:
        for unit, at in cr.kinks(sweep):
            z = _report(dict(DEFAULTS, **{sweep: at}))["forward"]["z"]
            assert abs(z[unit - 1]) < 1e-12


@pytest.mark.parametrize("sweep,setting", [("x", DEFAULTS), ("u1", DEFAULTS),
                                           ("u2", DEFAULTS),
                                           ("x", dict(DEFAULTS, u2=1.3, v1=-0.8))])
def test_one_sided_slopes_differ_at_a_kink(sweep, setting):
    others = {k: v for k, v in setting.items() if k != sweep}
    lo, hi = cr.CONTROLS[sweep][:2]
    data = cr.sweep_report(sweep, np.linspace(lo, hi, 9), **others)
    assert data["kinks"], "every listed sweep crosses at least one kink"
    for kink in data["kinks"]:
        at, j = kink["at"], kink["unit"]
        L_at, L_left, L_right = cr.loss_along(sweep, [at, at - H, at + H], **others)
        # one-sided difference quotients (error O(H) times the curvature)
        assert kink["left"] == pytest.approx((L_at - L_left) / H, abs=1e-4)
        assert kink["right"] == pytest.approx((L_right - L_at) / H, abs=1e-4)
        # the jump is unit j's share switching on or off: e v_j dz_j/d(sweep)
        r = _report(dict(setting, **{sweep: at}))
        dz = r["inputs"]["u"][j - 1] if sweep == "x" else r["inputs"]["x"]
        jump = r["error"] * r["inputs"]["v"][j - 1] * dz
        assert abs(jump) > 0.1
        assert abs(kink["right"] - kink["left"]) == pytest.approx(abs(jump), abs=1e-6)


def test_the_fallback_marks_each_kink_with_its_one_sided_slopes():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    data = cr.sweep_report("x", np.linspace(-1.4, 1.4, 5))
    assert [k["unit"] for k in data["kinks"]] == [1, 2]
    fig, update = cr.sweep_figure(data)
    try:
        ax_loss = fig.axes[0]
        notes = {round(t.xy[0], 9): t.get_text() for t in ax_loss.texts if hasattr(t, "xy")}
        for kink in data["kinks"]:
            note = notes[round(kink["at"], 9)]
            assert f"unit {kink['unit']} switches" in note
            assert f"{kink['left']:+.2f} → {kink['right']:+.2f}" in note
        # the tangent drawn in frame k has the report's slope and touches L there
        tangent_line, = (ln for ln in ax_loss.lines if ln.get_gid() == "tangent")
        for k in range(len(data["values"])):
            update(k)
            ts, Ls = tangent_line.get_data()
            assert (Ls[1] - Ls[0]) / (ts[1] - ts[0]) == pytest.approx(data["slope"][k])
            mid = (Ls[0] + Ls[1]) / 2
            assert mid == pytest.approx(data["L"][k])
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ live widget

def test_moving_a_slider_updates_the_tables_and_the_tangent(ui):
    before, picture_before = ui.table.value, ui.picture.value
    assert "Gradients" in before and "all three agree" in before
    ui.sliders["x"].value = -1.5
    after = ui.table.value
    assert after != before and "all three agree" in after
    assert ui.picture.value != picture_before
    # the table and the picture show the numbers of the new setting
    r = _report({k: s.value for k, s in ui.sliders.items()})
    assert cr._num(r["forward"]["y_hat"]) in after
    for use in r["uses"]:
        assert cr._num(use["delta"]) in after
    assert f"∂L/∂x = {r['gradients']['chain rule']['x']:+.3f}" in ui.picture.value
    ui.against.value = "u2"
    assert f"∂L/∂u₂ = {r['gradients']['chain rule']['u2']:+.3f}" in ui.picture.value
    ui.against.value = "x"
    for name, slider in ui.sliders.items():  # every slider, to both ends
        for value in (slider.min, slider.max):
            slider.value = value
            assert "all three agree" in ui.table.value, (name, value)


def test_widget_html_has_no_tex():
    # the book's browser test flags raw TeX in a page; the tables use Unicode only
    html = cr.report_html(cr.chain_rule_report(0.3))
    html += cr.tangent_svg(cr.sweep_report("x", np.linspace(-2, 2, 9)), 4)
    for tex in ("$", "\\frac", "\\partial", "\\("):
        assert tex not in html


def test_widget_rejects_unknown_controls():
    pytest.importorskip("ipywidgets")
    with pytest.raises(ValueError, match="unknown controls"):
        cr.chain_rule_widget(w=1.0)
    with pytest.raises(ValueError, match="sweep must be one of"):
        cr.chain_rule_widget(against="b1")
    with pytest.raises(ValueError, match="sweep must be one of"):
        cr.sweep_report("c", [0.0, 1.0])


# ------------------------------------------------------------------ fallback

def test_fallback_is_a_deterministic_light_player():
    pytest.importorskip("matplotlib")
    pytest.importorskip("IPython")
    from PIL import Image

    a = cr.chain_rule_animation(n_frames=3, span=(-1.0, 1.0), name="t").data
    b = cr.chain_rule_animation(n_frames=3, span=(-1.0, 1.0), name="t").data
    assert a == b
    assert 'type="range" class="anim-slider"' in a  # the scrub slider
    frames = re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]+)"', a)
    assert len(frames) == 3
    assert "_anim_slidert_0" in a  # ids made from name, not random
    for frame in frames:  # stored with a small palette, which keeps the notebook light
        image = Image.open(io.BytesIO(base64.b64decode(frame)))
        assert image.mode == "P" and len(image.getcolors()) <= 32


# ------------------------------------------------------------------ chapter 1

def test_chapter_1_hides_plotting_code_only():
    """Cells that draw are tagged hide-input, and only they are, each with a caption."""
    cells = [c for c in json.loads(CHAPTER.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    draws = re.compile(r"\bplt\.|\bfig\b|\bax\.|draw_graph\(|chain_rule_animation\(")
    for cell in cells:
        source = "".join(cell["source"])
        tags = cell["metadata"].get("tags", [])
        if draws.search(source):
            assert "hide-input" in tags, source[:200]
        if "hide-input" in tags:
            assert draws.search(source), f"hidden cell that does not draw:\n{source[:200]}"
            assert "mystnb" in cell["metadata"], "a hidden plotting cell needs a caption"
