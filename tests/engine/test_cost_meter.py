"""The cost meter counts deterministically and sees the work inside derivative rules."""

import numpy as onp

import mini_autograd.numpy as np
from mini_autograd import grad, make_jvp, make_vjp
from mini_autograd.cost import CostMeter, count_flops

rng = onp.random.default_rng(0)
X = rng.normal(size=(16, 30))
W1 = rng.normal(size=(30, 20))
W2 = rng.normal(size=(20, 5))


def mlp_loss(W1):
    return np.sum(np.tanh(np.tanh(X @ W1) @ W2) ** 2)


def test_counts_are_deterministic_and_match_textbook_matmul_flops():
    _, m1 = count_flops(grad(mlp_loss), W1)
    _, m2 = count_flops(grad(mlp_loss), W1)
    assert m1.summary() == m2.summary()
    # forward: two matrix products 2*16*30*20 and 2*16*20*5
    assert m1.forward.by_op["matmul"] == 2 * 16 * 30 * 20 + 2 * 16 * 20 * 5
    # backward: dW1 = X^T delta (2*30*16*20) and dh = delta W2^T (2*16*5*20); X needs no gradient
    assert m1.backward.by_op["matmul"] == 2 * 30 * 16 * 20 + 2 * 16 * 5 * 20


def test_backward_counts_rule_arithmetic_not_just_primitives():
    _, m = count_flops(grad(lambda x: np.sum(np.tanh(x))), onp.ones(100))
    # tanh's rule computes g * (1 - ans * ans): three elementwise ops on 100 entries
    assert m.backward.flops >= 300
    assert m.vjp_evals == 2


def test_gradient_costs_a_small_multiple_of_the_forward_pass():
    _, m = count_flops(grad(mlp_loss), W1)
    ratio = m.backward.flops / m.forward.flops
    assert 0.5 < ratio < 3.0, ratio


def test_forward_mode_counts_tangent_work_and_jvp_evals():
    _, m = count_flops(lambda: make_jvp(mlp_loss)(W1)(onp.ones_like(W1)))
    assert m.jvp_evals > 0 and m.tangent.flops > 0 and m.backward.flops == 0


def test_reverse_costs_scale_with_outputs_and_forward_with_inputs():
    def f(x):  # R^d -> R^k with k = 2
        return np.stack([np.sum(np.sin(x)), np.sum(x * x)])

    def jac_rev(d):
        vjp, _ = make_vjp(f)(onp.ones(d))
        _, m = count_flops(lambda: [vjp(e) for e in onp.eye(2)])
        return m.vjp_evals

    def jac_fwd(d):
        _, m = count_flops(lambda: [make_jvp(f)(onp.ones(d))(e) for e in onp.eye(d)])
        return m.jvp_evals

    assert jac_rev(10) == jac_rev(40)          # reverse: k passes, whatever d is
    assert jac_fwd(40) == 4 * jac_fwd(10)      # forward: d passes


def test_meter_is_inactive_outside_the_context_and_results_are_plain_arrays():
    with CostMeter() as m:
        g = grad(mlp_loss)(W1)
    assert type(g) is onp.ndarray
    before = m.summary()
    grad(mlp_loss)(W1)
    assert m.summary() == before
