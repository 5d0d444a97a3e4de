"""The spectral-radius widget (book_tools/widgets/spectral_radius.py).

Its controls must do what their names say (the spectral radius is rho for every
non-normality; only ||W||_2 grows with it), the three adjoints must agree over the range
of every control, the pictures it teaches from must hold (the rho^(T-t) line exactly for a
normal linear network, the ||W||_2^(T-t) bound always, transient growth for a non-normal
W with rho < 1), and the agreement check must fail when the hand recursion is wrong.
"""

import numpy as np
import pytest

pytest.importorskip("autograd")

from book_tools.widgets import spectral_radius as sr


def _values(name):
    lo, hi, step, _ = sr.CONTROLS[name]
    return np.linspace(lo, hi, round((hi - lo) / step) + 1)


def _default(name):
    return sr.CONTROLS[name][3]


SETTINGS = (
    [(rho, _default("nonnormality"), act) for rho in _values("rho") for act in sr.ACTIVATIONS]
    + [(_default("rho"), nu, act) for nu in _values("nonnormality") for act in sr.ACTIVATIONS]
    + [(rho, nu, act) for rho in sr.CONTROLS["rho"][:2] for nu in sr.CONTROLS["nonnormality"][:2]
       for act in sr.ACTIVATIONS])


@pytest.mark.parametrize("rho, nu, activation", SETTINGS)
def test_every_setting_three_engines_agree_and_the_controls_mean_what_they_say(
        rho, nu, activation):
    r = sr.spectral_report(rho, nu, activation)
    assert r["max_discrepancy"] < 1e-12, r["max_discrepancy"]
    for engine in sr.ENGINES:
        n = r["norms"][engine]
        assert n.shape == (sr.STEPS + 1,) and np.all(np.isfinite(n)) and n[0] == pytest.approx(1)
    # rho is the spectral radius whatever the non-normality; ||W||_2 is at least rho
    assert r["spectral_radius"] == pytest.approx(rho, rel=1e-9)
    assert r["norm2"] >= rho * (1 - 1e-12)
    # |act'| <= 1, so no step can grow the adjoint by more than ||W||_2
    assert np.all(r["norms"]["by hand"] <= r["bound_line"] * (1 + 1e-9))


def test_a_normal_linear_network_follows_rho_to_the_power_exactly():
    for rho in _values("rho"):
        r = sr.spectral_report(rho, 0.0, "linear")
        assert r["norm2"] == pytest.approx(rho, rel=1e-12)
        np.testing.assert_allclose(r["norms"]["by hand"], r["rho_line"], rtol=1e-9)


def test_non_normality_raises_the_norm_only_and_gives_transient_growth():
    rho = 0.9
    norms2 = [sr.spectral_report(rho, nu, "linear")["norm2"] for nu in _values("nonnormality")]
    assert np.all(np.diff(norms2) > 0), norms2
    r = sr.spectral_report(rho, sr.CONTROLS["nonnormality"][1], "linear")
    # the signal first grows although every eigenvalue is inside the unit circle ...
    assert r["peak"] > 10 and 0 < r["peak_at"] < sr.STEPS
    assert r["rho_line"][r["peak_at"]] < 1
    # ... and far back it decays at close to rho per step, as the spectral radius says
    assert abs(r["rate"] - rho) < 0.02


def test_the_agreement_check_catches_a_missing_transpose(monkeypatch):
    def wrong(W, activation, x, u, h0, r):
        return original(W.T, activation, x, u, h0, r)     # W where W^T belongs

    original = sr.adjoints_by_hand
    monkeypatch.setattr(sr, "adjoints_by_hand", wrong)
    report = sr.spectral_report(0.9, 1.0, "tanh")
    assert report["max_discrepancy"] > 1e-3
    with pytest.raises(AssertionError, match="disagree"):
        sr.build_fallback(values=[1.0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(rho=0.0), "positive"), (dict(rho=float("nan")), "positive"),
    (dict(nonnormality=-1.0), ">= 0"), (dict(activation="relu"), "activation"),
])
def test_bad_settings_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sr.spectral_report(**kwargs)


def test_the_alt_text_says_what_the_picture_shows():
    r = sr.spectral_report(0.9, 2.0, "linear")
    alt = sr.alt_text(r)
    assert "spectral radius 0.90" in alt and f"{r['peak']:.3g}" in alt
    assert sr.picture_html(r).startswith('<img alt="Adjoint norm')


def test_the_widget_reacts_to_every_control():
    pytest.importorskip("ipywidgets")
    ui = sr.build_widget()
    seen = {ui.panel.value}
    for name, slider in ui.sliders.items():
        slider.value = sr.CONTROLS[name][1]
        assert ui.report()[name] == pytest.approx(sr.CONTROLS[name][1])
        seen.add(ui.panel.value)
    ui.activation.value = "tanh"
    assert ui.report()["activation"] == "tanh"
    seen.add(ui.panel.value)
    assert len(seen) == 4


def test_the_fallback_is_deterministic():
    pytest.importorskip("IPython")
    first = sr.build_fallback(values=[0.0, 2.0]).data
    assert first == sr.build_fallback(values=[0.0, 2.0]).data
    assert first.count("data:image/png;base64") == 2
    with pytest.raises(ValueError, match="sweep"):
        sr.build_fallback(sweep="depth")
