"""Graph tracing/drawing, and the nn layers against autograd."""

import autograd
import autograd.numpy as anp
import autograd.scipy.special as asp
import matplotlib
import numpy as onp
import pytest

import mini_autograd.nn as nn
import mini_autograd.numpy as np
from mini_autograd import grad
from mini_autograd import hessian as mini_autograd_hessian
from mini_autograd.graph import draw_graph, trace_graph

matplotlib.use("Agg")
ag_nn = nn.layers_for(anp, asp.logsumexp)
rng = onp.random.default_rng(0)


def two_layer(x, W1, b1, w2):
    z1 = W1 @ x + b1
    h = np.where(z1 > 0, z1, 0.0)
    return 0.5 * (np.dot(w2, h) - 1.0) ** 2


ARGS = (onp.array([1.0, 2.0]), onp.array([[0.5, -0.3], [0.8, 0.2]]), onp.array([0.1, -0.1]),
        onp.array([1.0, -2.0]))


def test_trace_graph_records_ops_values_and_gradients():
    g = trace_graph(two_layer, *ARGS)
    assert g.ops() == ["matmul", "add", "where", "matmul", "subtract", "power", "multiply"]
    inputs = {n.op: n for n in g.nodes if n.is_input}
    assert set(inputs) == {"x", "W1", "b1", "w2"}
    ours = grad(two_layer, (0, 1, 2, 3))(*ARGS)
    for name, expected in zip(["x", "W1", "b1", "w2"], ours):
        onp.testing.assert_allclose(inputs[name].grad, expected)
    out = g.nodes[g.output]
    onp.testing.assert_allclose(out.value, two_layer(*ARGS))
    assert all(p < n.index for n in g.nodes for p in n.parents)  # evaluation order


def test_draw_graph_returns_a_figure_with_a_box_per_node():
    g = trace_graph(two_layer, *ARGS)
    fig = draw_graph(g, show_values=True, show_grads=True, labels={g.output: "L"})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == len(g.nodes)
    assert any(t.startswith("L\n") for t in texts)


def test_trace_graph_rejects_non_scalar_output():
    with pytest.raises(ValueError, match="scalar"):
        trace_graph(lambda x: x * 2.0, onp.ones(3))


LAYER_CASES = {
    "conv2d stride/pad/bias": lambda L, x, w: L.conv2d(x, w, onp.arange(4.0), stride=2, padding=1),
    "conv2d single channel": lambda L, x, w: L.conv2d(x[0, 0], w[0, 0]),
    "conv1d": lambda L, x, w: L.conv1d(x[:, :, 0, :], w[:, :, 0, :], stride=2, padding=2),
    "convolve2d": lambda L, x, w: L.convolve2d(x[0, 0], w[0, 0], padding=1),
    "max_pool2d": lambda L, x, w: L.max_pool2d(L.conv2d(x, w), 2),
    "avg_pool2d": lambda L, x, w: L.avg_pool2d(L.conv2d(x, w), (2, 1), stride=1),
    "max_pool1d": lambda L, x, w: L.max_pool1d(x[:, :, 0, :] * w[0, 0, 0, 0], 3, 2),
    "softmax": lambda L, x, w: L.softmax(x * w[0, 0, 0, 0], axis=1),
    "log_softmax": lambda L, x, w: L.log_softmax(x * w[0, 0, 0, 0]),
    "sigmoid relu": lambda L, x, w: L.sigmoid(L.relu(x) * w[0, 0, 0, 0]),
}


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layers_match_autograd(case):
    x = rng.normal(size=(2, 3, 7, 6))
    w = rng.normal(size=(4, 3, 3, 2))
    f = LAYER_CASES[case]
    ours = grad(lambda x, w: np.sum(f(nn, x, w) ** 2), (0, 1))(x, w)
    theirs = autograd.grad(lambda x, w: anp.sum(f(ag_nn, x, w) ** 2), (0, 1))(x, w)
    for o, t in zip(ours, theirs):
        onp.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_conv2d_matches_explicit_loops():
    x = rng.normal(size=(5, 6))
    k = rng.normal(size=(2, 3))
    loops = onp.array([[onp.sum(x[i:i + 2, j:j + 3] * k) for j in range(4)] for i in range(4)])
    onp.testing.assert_allclose(nn.conv2d(x, k), loops)


def test_max_pool_tie_splits_gradient_like_autograd():
    x = onp.array([[[[1.0, 1.0], [0.0, 1.0]]]])
    ours = grad(lambda x: np.sum(nn.max_pool2d(x, 2)))(x)
    onp.testing.assert_allclose(ours[0, 0], [[1 / 3, 1 / 3], [0.0, 1 / 3]])
    onp.testing.assert_allclose(ours, autograd.grad(lambda x: anp.sum(ag_nn.max_pool2d(x, 2)))(x))


def test_cross_entropy_labels_onehot_and_stability():
    logits = onp.array([[1000.0, -1000.0, 0.0], [0.1, 0.2, 0.3]])
    labels = onp.array([0, 2])
    value = nn.cross_entropy(logits, labels)
    assert onp.isfinite(value)
    g = grad(nn.cross_entropy)(logits, labels)
    p = onp.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onp.testing.assert_allclose(g, (p - onp.eye(3)[labels]) / 2, atol=1e-12)
    onp.testing.assert_allclose(nn.cross_entropy(logits, onp.eye(3)[labels]), value)
    with pytest.raises(ValueError, match="labels must lie"):
        nn.cross_entropy(logits, onp.array([0, 3]))


def test_conv_shape_errors_are_clear():
    with pytest.raises(ValueError, match="channels"):
        nn.conv2d(onp.ones((1, 3, 5, 5)), onp.ones((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        nn.conv2d(onp.ones((4, 4)), onp.ones((5, 5)))


def test_draw_graph_wraps_long_graphs_into_rows():
    def chain(x):
        for _ in range(9):
            x = np.sin(x)
        return x

    g = trace_graph(chain, 0.3)
    flat = draw_graph(g)
    wrapped = draw_graph(g, max_columns=4)
    width = lambda fig: fig.axes[0].get_xlim()[1] - fig.axes[0].get_xlim()[0]  # noqa: E731
    height = lambda fig: fig.axes[0].get_ylim()[1] - fig.axes[0].get_ylim()[0]  # noqa: E731
    assert width(wrapped) < width(flat) / 2
    assert height(wrapped) > 2 * height(flat)
    assert "-0" not in " ".join(t.get_text() for t in draw_graph(
        trace_graph(lambda x: x * 0.0 - 0.0, -1.0), show_values=True).axes[0].texts)


def test_missing_ndarray_methods_on_traced_values_explain_themselves():
    from mini_autograd import primitive

    with pytest.raises(AttributeError, match="cumprod.*mini_autograd.numpy"):
        grad(lambda x: x.cumprod().sum())(onp.ones(3))
    # constant-valued methods answer from the value, so a rule using them differentiates
    winner = primitive(lambda x: onp.max(x))
    winner.defvjp(lambda g, ans, x: g * (onp.arange(x.size) == x.argmax()))
    second = grad(lambda v: np.sum(grad(lambda u: winner(u) ** 2)(v)))(onp.array([1.0, 2.0]))
    onp.testing.assert_allclose(second, [0.0, 2.0])


def test_logaddexp_matches_autograd_both_modes():
    from mini_autograd.checks import check_grads

    x = onp.array([0.5, -2.0, 700.0])
    onp.testing.assert_allclose(grad(lambda w: np.sum(np.logaddexp(0.0, -w)))(x),
                                autograd.grad(lambda w: anp.sum(anp.logaddexp(0.0, -w)))(x))
    check_grads(np.logaddexp, onp.array([0.3, -1.0]), onp.array([[0.1], [2.0]]))


def _softmax_to_50_digits(z):
    """The softmax of the float64 logits ``z``, computed in 50-digit decimal arithmetic."""
    from decimal import Decimal, localcontext
    with localcontext() as context:
        context.prec = 50
        exps = [Decimal(float(v)).exp() for v in z]
        total = sum(exps)
        return onp.array([float(e / total) for e in exps])


def test_softmax_is_accurate_for_logits_with_a_large_common_offset():
    # exp(z - logsumexp(z)) rounds logsumexp(z) to about eps * |z|, which becomes a
    # relative error of every probability (about 2000 eps at an offset of 1e4, measured);
    # exp(z - m) / sum(exp(z - m)) stays within a few eps (Blanchard, Higham, Higham 2021).
    eps = onp.finfo(float).eps
    generator = onp.random.default_rng(1)
    for offset in (0.0, 1e2, 1e4, 1e6):
        for _ in range(20):
            z = offset + generator.standard_normal(10)
            reference = _softmax_to_50_digits(z)
            relative = onp.abs(nn.softmax(z) - reference) / reference
            assert relative.max() < 8 * eps, (offset, relative.max() / eps)
    z = 1e4 + generator.standard_normal(10)
    division_free = onp.exp(z - asp.logsumexp(z))      # the form this test guards against
    assert (onp.abs(division_free - _softmax_to_50_digits(z)).max()
            / _softmax_to_50_digits(z).min()) > 100 * eps


def test_softmax_derivatives_match_autograd_at_ties_and_large_logits():
    for z in (onp.array([1.0, 1.0, 0.0]), onp.array([1000.0, 1000.0, -1000.0]),
              onp.array([-1000.0, -1000.0, -1000.0]), onp.array([3.0, -2.0, 0.5])):
        for i in range(3):
            ours = grad(lambda z: nn.softmax(z)[i])(z)
            theirs = autograd.grad(lambda z: ag_nn.softmax(z)[i])(z)
            p = _softmax_to_50_digits(z)
            onp.testing.assert_allclose(ours, p[i] * ((onp.arange(3) == i) - p), atol=1e-15)
            onp.testing.assert_allclose(ours, theirs, atol=1e-15)
        H = mini_autograd_hessian(lambda z: nn.softmax(z)[0])(z)
        H_ag = autograd.hessian(lambda z: ag_nn.softmax(z)[0])(z)
        onp.testing.assert_allclose(H, H_ag, atol=1e-14)
