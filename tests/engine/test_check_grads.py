"""check_grads passes on correct rules and fails, loudly, on a wrong one."""

import numpy as onp
import pytest

import mini_autograd.numpy as np
from mini_autograd import primitive
from mini_autograd.checks import check_grads


def test_passes_on_correct_functions_both_modes_second_order():
    x = onp.array([0.3, -0.7, 1.1])
    check_grads(lambda x, y: np.sum(np.tanh(x) * y ** 2), x, x[::-1].copy(), order=2)
    check_grads(lambda d: np.sum(d["a"] @ d["b"]), {"a": onp.ones((2, 3)), "b": onp.ones((3, 2))})


def _sin_with(vjp_rule, jvp_rule):
    p = primitive(onp.sin, name="sin_under_test")
    p.defvjp(vjp_rule)
    p.defjvp(jvp_rule)
    return p


def test_fails_on_wrong_reverse_rule():
    bad = _sin_with(lambda g, ans, x: g * np.sin(x), lambda t, ans, x: t * np.cos(x))
    with pytest.raises(AssertionError, match="rev, order 1"):
        check_grads(lambda x: np.sum(bad(x)), onp.ones(3), modes=("rev",))
    check_grads(lambda x: np.sum(bad(x)), onp.ones(3), modes=("fwd",), order=1)


def test_fails_on_wrong_forward_rule():
    bad = _sin_with(lambda g, ans, x: g * np.cos(x), lambda t, ans, x: 2.0 * t * np.cos(x))
    with pytest.raises(AssertionError, match="fwd, order 1"):
        check_grads(lambda x: np.sum(bad(x)), onp.ones(3), modes=("fwd",))


def test_fails_on_rule_that_is_right_once_but_wrong_twice():
    # the VJP is right at first order but written with a non-differentiable constant,
    # so its own derivative (second order) is wrong
    import mini_autograd

    bad = _sin_with(lambda g, ans, x: g * onp.cos(mini_autograd.stop_gradient(x)),
                    lambda t, ans, x: t * np.cos(x))
    check_grads(lambda x: np.sum(bad(x)), onp.ones(3), modes=("rev",), order=1)
    with pytest.raises(AssertionError, match="order 2"):
        check_grads(lambda x: np.sum(bad(x)), onp.ones(3), modes=("rev",), order=2)


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="unknown modes"):
        check_grads(np.sin, 1.0, modes=("sideways",))
