"""The adjoint widget of the 4D-Var chapter (book_tools/widgets/adjoint.py).

The computation is checked over the whole range of every control (read from the built
widget, so the test follows the UI): the three ways of computing every lambda_j agree
when the bug is off; each bug departs from the engines exactly where the recursion says
it must; the jumps at the observations are H^T (H x - y) / sigma_o^2, recomputed here
from the engines' adjoints and the engine's VJP of one step; observing x alone still
puts gradient into y and z.  The UI must react to every control; the fallback must be a
deterministic player.
"""

import numpy as np
import pytest

pytest.importorskip("autograd")

import autograd

from book_tools.widgets import adjoint as aw

# two exact computations of one adjoint: rounding only (relative to the largest |lambda|)
TIGHT = 1e-11


def _range(name):
    lo, hi, step, _ = aw.CONTROLS[name]
    return list(range(lo, hi + 1, step))


def _assert_sound(r):
    """Shapes, finiteness, the cursor, and (bug off) the three ways agreeing tightly."""
    N, k = r["N"], r["k"]
    assert r["truth"].shape == r["background"].shape == (N + 1, 3)
    assert sorted(r["obs"]) == list(range(0, N + 1, r["obs_every"]))
    assert r["H"].shape == (len(aw.OBSERVED[r["observed"]]), 3)
    for e in aw.ENGINES:
        lam = r["lams"][e]
        assert lam.shape == (N + 1, 3) and np.all(np.isfinite(lam)), e
        np.testing.assert_array_equal(r["lambda_k"][e], lam[k])
    assert r["revealed"] == list(range(N, k - 1, -1))
    assert np.all(np.isfinite(r["line_cost"])) and r["line_minima"] >= 0
    assert r["line_cost"].shape == r["line_a"].shape
    np.testing.assert_allclose(np.linalg.norm(r["line_direction"]), 1.0, rtol=1e-15)
    scale = np.max(np.abs(r["lams"]["autograd"]))
    np.testing.assert_allclose(r["lams"]["mini_autograd"], r["lams"]["autograd"],
                               rtol=TIGHT, atol=TIGHT * scale)
    if r["bug"] == "off":
        np.testing.assert_allclose(r["lams"]["by hand"], r["lams"]["autograd"],
                                   rtol=TIGHT, atol=TIGHT * scale)
        assert r["departs_at"] is None
        assert r["max_discrepancy"] <= TIGHT * scale


@pytest.fixture(scope="module")
def ui():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    return aw.build_widget()


def test_controls_match_the_control_table(ui):
    c = ui.controls
    assert list(c) == ["k", "N", "obs_every", "observed", "bug"]
    for name in ("N", "obs_every"):
        lo, hi, step, default = aw.CONTROLS[name]
        assert (c[name].min, c[name].max, c[name].step, c[name].value) == (lo, hi, step,
                                                                          default)
    assert (c["k"].min, c["k"].max, c["k"].value) == (0, aw.DEFAULTS["N"], aw.DEFAULTS["N"])
    assert list(c["observed"].options) == list(aw.OBSERVED)
    assert list(c["bug"].options) == list(aw.BUGS)


def test_cursor_over_its_whole_range():
    N = aw.DEFAULTS["N"]
    for k in range(N, -1, -1):
        _assert_sound(aw.adjoint_report(k))
    # the last lambda is the gradient of J, from both engines' own gradient of J
    import mini_autograd
    import mini_autograd.numpy as mnp

    exp = aw.experiment()
    g = mini_autograd.grad(lambda x: aw.cost(mnp, x, exp))(exp["x_b"])
    np.testing.assert_allclose(aw.adjoint_report(0)["lambda_k"]["by hand"], g,
                               rtol=TIGHT, atol=TIGHT * np.max(np.abs(g)))


# one test per slider position, so that pytest-xdist spreads them over the cores
@pytest.mark.parametrize("name, value", [(name, value) for name in ("N", "obs_every")
                                         for value in _range(name)])
def test_each_slider_over_its_whole_range(name, value):
    settings = {**aw.DEFAULTS, name: value}
    for k in (settings["N"], settings["N"] // 3, 0):
        _assert_sound(aw.adjoint_report(k, **settings))


@pytest.mark.parametrize("observed", list(aw.OBSERVED))
@pytest.mark.parametrize("bug", aw.BUGS)
def test_every_menu_setting_at_the_corners(observed, bug):
    for N in (10, 300):
        for obs_every in (1, 30):
            for k in (N, N // 2, 0):
                _assert_sound(aw.adjoint_report(k, N, obs_every, observed, bug))


def _expected_departure(observed, bug, last_obs):
    """Where a wrong adjoint first differs, derived from the recursion.

    Before the last observation lambda is 0, and both bugs map 0 to 0.  At the last
    observation lambda = H^T (misfit), so the first step back, last_obs - 1, is where
    M'^T lambda is first computed.  Forgetting the transpose changes it there (Df is not
    symmetric).  Taking the Jacobian at x_{k+1} also changes it there, except when only
    x is observed: then lambda = (a, 0, 0) and Df^T (a, 0, 0) = a (-sigma, sigma, 0)
    does not depend on the state, so the wrong state gives the right value once, and
    the departure comes one step later.
    """
    if last_obs == 0:
        return None                       # nothing is ever carried back
    if bug == "Jacobian at the wrong step" and observed == "x":
        return last_obs - 2
    return last_obs - 1


@pytest.mark.parametrize("observed", list(aw.OBSERVED))
@pytest.mark.parametrize("bug", aw.BUGS[1:])
def test_each_bug_departs_from_autograd_where_the_recursion_says(observed, bug):
    for N, obs_every in [(150, 10), (150, 7), (300, 1), (10, 30), (100, 30), (20, 3)]:
        r = aw.adjoint_report(0, N, obs_every, observed, bug)
        hand, ref = r["lams"]["by hand"], r["lams"]["autograd"]
        scale = np.max(np.abs(ref))
        last = max(r["obs"])
        expected = _expected_departure(observed, bug, last)
        assert r["departs_at"] == expected, (N, obs_every, r["departs_at"], expected)
        if expected is None:
            np.testing.assert_allclose(hand, ref, rtol=TIGHT, atol=TIGHT * scale)
            continue
        # right (to rounding) at every step after the departure, wrong at it
        np.testing.assert_allclose(hand[expected + 1:], ref[expected + 1:], rtol=TIGHT,
                                   atol=TIGHT * scale)
        # (the first error is DT times a change of Df times lambda: far above rounding)
        assert np.max(np.abs(hand[expected] - ref[expected])) > 1e3 * TIGHT * scale
        # and the gradient it delivers is wrong by much more than rounding
        assert np.linalg.norm(hand[0] - ref[0]) > 1e-3 * np.linalg.norm(ref[0])


def test_the_jump_at_an_observation_is_the_pulled_back_misfit():
    """lambda_k - M_k'^T lambda_{k+1} = H^T (H x_k - y_k) / sigma_o^2, from the engines."""
    for observed in aw.OBSERVED:
        for N, obs_every in [(150, 10), (60, 7)]:
            r = aw.adjoint_report(0, N, obs_every, observed)
            lam = r["lams"]["autograd"]
            xs = aw.trajectory(np, r["x_b"], N)      # the first guess's trajectory
            H = np.eye(3)[list(aw.OBSERVED[observed])]
            for k in range(N + 1):
                carried = np.zeros(3)
                if k < N:
                    vjp, _ = autograd.make_vjp(lambda s: aw.euler_step(autograd.numpy, s))(
                        xs[k])
                    carried = vjp(lam[k + 1])
                forcing = lam[k] - carried
                if k == 0:
                    forcing = forcing - (xs[0] - r["x_b"]) / aw.SIGMA_B ** 2
                expected = (H.T @ (H @ xs[k] - r["obs"][k]) / aw.SIGMA_O ** 2
                            if k in r["obs"] else np.zeros(3))
                np.testing.assert_allclose(forcing, expected, rtol=1e-9,
                                           atol=1e-9 * np.max(np.abs(lam)))
                if k in r["obs"]:
                    np.testing.assert_allclose(r["jumps"][k], expected, rtol=1e-13)
            assert sorted(r["jumps"]) == sorted(r["obs"])


def test_observing_x_alone_puts_gradient_into_y_and_z():
    r = aw.adjoint_report(0, 150, 10, "x")
    lam = r["lams"]["autograd"]
    for jump in r["jumps"].values():          # the observations touch x only...
        assert jump[1] == 0.0 and jump[2] == 0.0 and jump[0] != 0.0
    # ...one step back, M'^T = I + DT Df^T has already moved some into y:
    # Df^T (a, 0, 0) = a (-sigma, sigma, 0)
    a = lam[150][0]
    np.testing.assert_allclose(lam[149], [a * (1 - aw.DT * aw.SIGMA), a * aw.DT * aw.SIGMA,
                                          0.0], rtol=1e-12, atol=1e-12 * abs(a))
    # and at k = 0 the gradient in y and z is as large as in x (or larger)
    assert min(abs(lam[0][1]), abs(lam[0][2])) > abs(lam[0][0])


def test_long_windows_make_the_cost_rugged():
    minima = {N: aw.adjoint_report(0, N)["line_minima"] for N in _range("N")}
    assert all(minima[N] == 1 for N in minima if N <= 100), minima
    assert all(minima[N] >= 3 for N in minima if N >= 200), minima


def test_report_rejects_bad_input():
    with pytest.raises(ValueError, match="N must be an integer from 10 to 300 in steps"):
        aw.adjoint_report(None, N=15)
    with pytest.raises(ValueError, match="N must be an integer"):
        aw.adjoint_report(None, N=310)
    with pytest.raises(ValueError, match="obs_every must be an integer from 1 to 30"):
        aw.adjoint_report(None, obs_every=0)
    with pytest.raises(ValueError, match="observed must be one of"):
        aw.adjoint_report(None, observed="w")
    with pytest.raises(ValueError, match="bug must be one of"):
        aw.adjoint_report(None, bug="typo")
    for k in (-1, 151, 2.5, True):
        with pytest.raises(ValueError, match="cursor k must be an integer from 0 to N = 150"):
            aw.adjoint_report(k)


def test_moving_a_control_updates_the_picture_and_the_table(ui):
    c = ui.controls
    before_image, before_panel = ui.image.value, ui.panel.value
    assert "λ_150 all three agree" in before_panel and len(before_image) > 1000
    assert before_image.startswith('<img alt="Four panels for a window of 150 steps')
    c["k"].value = 70
    assert ui.image.value != before_image and "cursor k = 70" in ui.panel.value
    assert "Step 70 is an observation" in ui.panel.value
    c["bug"].value = "forgotten transpose"
    assert "first departs from the engines at step 149" in ui.panel.value
    assert "leaves autograd&#x27;s band at step 149" in ui.image.value
    assert "off by" in ui.panel.value
    c["bug"].value = "off"
    for name in ("N", "obs_every"):          # every slider, to both ends
        for value in (c[name].min, c[name].max):
            image = ui.image.value
            c[name].value = value
            assert ui.image.value != image, (name, value)
            assert "all three agree" in ui.panel.value, (name, value)
    assert c["k"].max == c["N"].value == c["k"].value   # a new window: cursor at its end
    for observed in aw.OBSERVED:
        c["observed"].value = observed
        assert f"observe {observed} every" in ui.panel.value
    c["k"].value = 0
    assert "cursor k = 0" in ui.panel.value and "all three agree" in ui.panel.value
    c["obs_every"].value = 30
    c["N"].value = 10                         # only step 0 is observed
    c["bug"].value = "Jacobian at the wrong step"
    assert "The bug changes nothing here" in ui.panel.value


def test_widget_html_has_no_tex():
    html = aw.report_html(aw.adjoint_report(40, bug="forgotten transpose"))
    for tex in ("$", "\\frac", "\\lambda", "\\("):
        assert tex not in html


def test_fallback_is_a_deterministic_player():
    pytest.importorskip("matplotlib")
    pytest.importorskip("IPython")
    a = aw.build_fallback(n_frames=3, N=30, name="t").data
    b = aw.build_fallback(n_frames=3, N=30, name="t").data
    assert a == b
    assert 'type="range" class="anim-slider"' in a
    assert a.count("data:image/png;base64,") == 3
    frames = [part.split('"')[0] for part in a.split("data:image/png;base64,")[1:]]
    assert len(set(frames)) == 3               # the cursor moved: every frame differs
    assert "_anim_slidert_0" in a


def test_fallback_rejects_bad_frames():
    with pytest.raises(ValueError, match="n_frames must be an integer >= 2"):
        aw.build_fallback(n_frames=1)
