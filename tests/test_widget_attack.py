"""The attack-size widget (book_tools/widgets/attack.py), on a linear classifier.

For a linear score s = w.x + b the best L-infinity attack is known exactly: image n is
flipped by a budget eps exactly when eps > t s / ||w||_1 (t = +-1 its label), and FGSM's
corner reaches it. So the curves can be checked against a formula: FGSM and PGD give
exactly that accuracy, random signs never do better, and an attack that follows the
wrong sign of the gradient does not work at all.
"""

import numpy as np
import pytest

pytest.importorskip("autograd")

import autograd
import autograd.numpy as anp

import mini_autograd
import mini_autograd.numpy as mnp
from book_tools.checking import assert_same
from book_tools.widgets import attack as aw

SIDE = 4
RNG = np.random.default_rng(0)
W_TRUE = RNG.normal(size=SIDE * SIDE)
X = RNG.normal(size=(200, SIDE * SIDE))
Y = (X @ W_TRUE + 0.5 * RNG.normal(size=200) > 0).astype(int)
W, B = W_TRUE / 4, 0.1


def losses(np, X, y):
    t = 2.0 * y - 1.0
    return np.logaddexp(0.0, -t * (X @ W + B))


def probability(X):
    return 1 / (1 + np.exp(-(X @ W + B)))


def loss_gradient(X, y):
    ours = mini_autograd.grad(lambda X: mnp.sum(losses(mnp, X, y)))(X)
    assert_same(ours, autograd.grad(lambda X: anp.sum(losses(anp, X, y)))(X))
    return ours


@pytest.fixture(scope="module")
def curves():
    return aw.attack_curves(probability, loss_gradient, X, Y)


def exact_accuracy(eps):
    margin = (2.0 * Y - 1.0) * (X @ W + B)
    return np.mean(margin / np.abs(W).sum() > eps)


def test_fgsm_and_pgd_reach_the_exact_worst_case_of_a_linear_model(curves):
    expected = np.array([exact_accuracy(e) for e in curves["eps"]])
    np.testing.assert_array_equal(curves["FGSM"], expected)
    np.testing.assert_array_equal(curves["PGD"], expected)
    assert np.all(curves["random signs"] >= curves["FGSM"])
    assert curves["FGSM"][-1] < 0.5 * curves["FGSM"][0]      # the budget matters
    for attack in aw.ATTACKS:                                 # eps = 0 changes nothing
        assert curves[attack][0] == aw.accuracy(probability, X, Y)


@pytest.mark.parametrize("attack", aw.ATTACKS)
@pytest.mark.parametrize("eps", [0.0, 0.05, 0.4])
def test_every_attack_stays_in_the_ball(attack, eps):
    X_adv = aw.perturb(attack, loss_gradient, X, Y, eps)
    assert np.abs(X_adv - X).max() <= eps + 1e-12


def test_following_the_wrong_sign_does_not_attack():
    backwards = lambda X, y: -loss_gradient(X, y)
    wrong = aw.attack_curves(probability, backwards, X, Y, eps_grid=[0.0, 0.4])
    assert wrong["FGSM"][1] >= wrong["FGSM"][0]


def test_the_report_for_every_control_setting(curves):
    lo, hi, step, _ = aw.EPS_CONTROL
    for eps in np.linspace(lo, hi, round((hi - lo) / step) + 1):
        for attack in aw.ATTACKS:
            r = aw.attack_report(probability, loss_gradient, X, Y, eps, 3, attack, curves)
            assert np.abs(r["delta"]).max() <= eps + 1e-12
            np.testing.assert_allclose(r["x_adv"], r["x"] + r["delta"])
            assert r["p_before"] == pytest.approx(probability(X[3:4])[0])
            assert r["p_after"] == pytest.approx(probability(r["x_adv"][None])[0])
            assert set(r["accuracy"]) == set(aw.ATTACKS)
    # FGSM on a linear model flips image 3 exactly past its threshold
    margin = (2 * Y[3] - 1) * (X[3] @ W + B)
    threshold = margin / np.abs(W).sum()
    for eps, right in [(0.99 * threshold, True), (1.01 * threshold, False)]:
        r = aw.attack_report(probability, loss_gradient, X, Y, eps, 3, "FGSM")
        assert r["correct_after"] is right


@pytest.mark.parametrize("kwargs, message", [
    (dict(eps=-0.1), ">= 0"), (dict(eps=float("nan")), ">= 0"),
    (dict(attack="DeepFool"), "attack must be"), (dict(index=200), "index"),
    (dict(index=1.5), "index"),
])
def test_bad_settings_are_refused_with_a_clear_message(kwargs, message):
    settings = dict(eps=0.1, index=0, attack="FGSM") | kwargs
    with pytest.raises(ValueError, match=message):
        aw.attack_report(probability, loss_gradient, X, Y, **settings)


def test_the_widget_reacts_to_every_control(curves):
    pytest.importorskip("ipywidgets")
    ui = aw.build_widget(probability, loss_gradient, X, Y, SIDE, curves)
    seen = {ui.panel.value}
    ui.eps.value = 0.4
    assert ui.report()["eps"] == pytest.approx(0.4)
    seen.add(ui.panel.value)
    ui.index.value = 5
    assert ui.report()["index"] == 5
    seen.add(ui.panel.value)
    ui.attack.value = "PGD"
    assert ui.report()["attack"] == "PGD"
    seen.add(ui.panel.value)
    assert len(seen) == 4 and "probability of class 1" in ui.panel.value


def test_the_fallback_is_deterministic(curves):
    pytest.importorskip("IPython")
    make = lambda: aw.build_fallback(probability, loss_gradient, X, Y, SIDE, curves,
                                     eps_values=[0.0, 0.2]).data
    first = make()
    assert first == make() and first.count("data:image/png;base64") == 2
