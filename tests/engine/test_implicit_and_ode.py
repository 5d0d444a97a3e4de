"""Custom-rule primitives: linear solve, fixed point, odeint, against autograd and finite differences."""

import gc

import autograd
import autograd.numpy as anp
import numpy as onp
import pytest
from autograd.builtins import tuple as ag_tuple
from autograd.misc.fixed_points import fixed_point as ag_fixed_point
from autograd.scipy.integrate import odeint as ag_odeint

import mini_autograd.numpy as np
from mini_autograd import grad, make_jvp
from mini_autograd.checks import check_grads
from mini_autograd.core import ReverseNode
from mini_autograd.implicit import fixed_point
from mini_autograd.ode import odeint


def newton_sqrt(np, fp):
    def step(a):
        return lambda x: 0.5 * (x + a / x)

    return lambda a: fp(step, a, 1.0, lambda x, y: np.abs(x - y), 1e-12)


def test_fixed_point_gradient_matches_autograd_and_calculus():
    a = 2.0
    ours = grad(newton_sqrt(np, fixed_point))(a)
    theirs = autograd.grad(newton_sqrt(anp, ag_fixed_point))(a)
    onp.testing.assert_allclose(ours, theirs, rtol=1e-10)
    onp.testing.assert_allclose(ours, 0.5 / onp.sqrt(a), rtol=1e-10)


def test_fixed_point_second_derivative_and_forward_mode():
    a = 3.0
    second = grad(grad(newton_sqrt(np, fixed_point)))(a)
    onp.testing.assert_allclose(second, -0.25 * a ** -1.5, rtol=1e-8)
    _, tangent = make_jvp(newton_sqrt(np, fixed_point))(a)(1.0)
    onp.testing.assert_allclose(tangent, 0.5 / onp.sqrt(a), rtol=1e-10)


def test_fixed_point_vector_equilibrium_matches_autograd():
    rng = onp.random.default_rng(0)
    W = rng.normal(size=(4, 4)) * 0.2
    b = rng.normal(size=4)

    def loss(np, fp):
        def step(b):
            return lambda z: np.tanh(np.dot(W, z) + b)

        return lambda b: np.sum(fp(step, b, np.zeros(4), lambda x, y: np.sum((x - y) ** 2), 1e-24) ** 2)

    onp.testing.assert_allclose(grad(loss(np, fixed_point))(b),
                                autograd.grad(loss(anp, ag_fixed_point))(b), rtol=1e-8)


def test_fixed_point_reports_non_convergence():
    with pytest.raises(RuntimeError, match="did not converge"):
        fixed_point(lambda a: lambda x: 2.0 * x + a, 1.0, 1.0, lambda x, y: abs(x - y), 1e-9, 50)


def test_solve_gradients_match_autograd_and_check_grads():
    rng = onp.random.default_rng(1)
    A = rng.normal(size=(3, 3)) + 3 * onp.eye(3)
    b = rng.normal(size=3)
    B = rng.normal(size=(3, 2))
    f = lambda np: (lambda A, b: np.sum(np.tanh(np.linalg.solve(A, b))))  # noqa: E731
    for rhs in (b, B):
        ours = grad(f(np), (0, 1))(A, rhs)
        theirs = autograd.grad(f(anp), (0, 1))(A, rhs)
        for o, t in zip(ours, theirs):
            onp.testing.assert_allclose(o, t, rtol=1e-10)
    check_grads(lambda A, b: np.linalg.solve(A, b), A, b, order=2)


def spiral(np):
    return lambda y, t, A: np.tanh(np.dot(A, y)) + 0.1 * t


Y0 = onp.array([1.0, 0.5])
TS = onp.linspace(0.0, 1.0, 4)
A0 = onp.array([[-0.1, 2.0], [-2.0, -0.1]])


@pytest.mark.parametrize("method", ["dopri5", "rk4"])
def test_odeint_adjoint_gradients_match_autograd(method):
    kw = {"method": method, "steps": 60} if method == "rk4" else {"method": method}
    ours = grad(lambda y0, t, A: np.sum(odeint(spiral(np), y0, t, (A,), **kw) ** 2), (0, 1, 2))(
        Y0, TS, A0)
    theirs = autograd.grad(
        lambda y0, t, A: anp.sum(ag_odeint(spiral(anp), y0, t, ag_tuple((A,)), rtol=1e-11,
                                           atol=1e-11) ** 2), (0, 1, 2))(Y0, TS, A0)
    for o, t in zip(ours, theirs):
        onp.testing.assert_allclose(o, t, rtol=1e-6, atol=1e-8)


def test_odeint_gradient_matches_finite_differences():
    def loss(A):
        return np.sum(odeint(spiral(np), Y0, TS, (A,)) ** 2)

    g = grad(loss)(A0)
    eps = 1e-6
    for i, j in [(0, 0), (0, 1), (1, 0)]:
        E = onp.zeros_like(A0)
        E[i, j] = eps
        numeric = (loss(A0 + E) - loss(A0 - E)) / (2 * eps)
        onp.testing.assert_allclose(g[i, j], numeric, rtol=1e-6)


def test_odeint_with_parameter_dict_and_exact_solution():
    # dy/dt = -k y has y(t) = y0 exp(-k t); dL/dk for L = y(T) is -T y0 exp(-k T)
    params = {"k": onp.array(0.7)}
    f = lambda y, t, p: -p["k"] * y  # noqa: E731
    y_T = lambda p: odeint(f, onp.array([2.0]), onp.array([0.0, 1.5]), (p,))[-1, 0]  # noqa: E731
    onp.testing.assert_allclose(y_T(params), 2.0 * onp.exp(-0.7 * 1.5), rtol=1e-8)
    onp.testing.assert_allclose(grad(y_T)(params)["k"], -1.5 * 2.0 * onp.exp(-0.7 * 1.5),
                                rtol=1e-7)


def _new_live_graph_nodes():
    # After gc.collect() every survivor sits in the oldest generation, and with the
    # collector off nothing leaves generation 0: it holds exactly the objects made since.
    return sum(isinstance(o, ReverseNode) for o in gc.get_objects(generation=0))


def _peak_live_nodes(loss, steps, every=10):
    """The most recorded nodes alive at any sampled call of the vector field during
    ``grad(loss)``.  Counting objects, not bytes, makes the measure exact: with the
    garbage collector off, a node is alive exactly while something refers to it (a
    reference cycle would show up as growth)."""
    calls, peak = [0], [0]

    def field(y, t, A):
        calls[0] += 1
        if calls[0] % every == 0:
            peak[0] = max(peak[0], _new_live_graph_nodes())
        return spiral(np)(y, t, A)

    gc.collect()
    gc.disable()
    try:
        grad(loss(field, steps))(A0)
    finally:
        gc.enable()
    return peak[0]


def _adjoint(field, steps):
    return lambda A: np.sum(odeint(field, Y0, TS, (A,), method="rk4", steps=steps))


def _taped(field, steps):  # the same solve written with plain ops: every step is recorded
    def loss(A):
        h, out = Y0, 0.0
        dt = (TS[1] - TS[0]) / steps
        for _ in range((len(TS) - 1) * steps):
            h = h + dt * field(h, 0.0, A)
            out = out + np.sum(h)
        return out

    return loss


def test_odeint_backward_memory_does_not_grow_with_steps():
    # The adjoint's backward pass records one evaluation of the field at a time, so the
    # number of live nodes is the same for 3x the steps ...
    assert _peak_live_nodes(_adjoint, 10) == _peak_live_nodes(_adjoint, 30) < 40
    # ... while a taped solver keeps every step's nodes alive (the probe sees growth)
    small, large = _peak_live_nodes(_taped, 10, every=5), _peak_live_nodes(_taped, 30, every=5)
    assert large > 2.5 * small > 100


def test_fixed_point_with_a_dict_of_parameters_uses_the_implicit_rule():
    from mini_autograd.graph import trace_graph

    def step(p):
        return lambda z: np.tanh(p["w"] * z + p["b"])

    def solution(w, b):
        return fixed_point(step, {"w": w, "b": b}, 0.0, lambda x, y: np.abs(x - y), 1e-13)

    ops = trace_graph(solution, 0.5, 0.1).ops()
    assert "fixed_point" in ops and ops.count("tanh") == 0, ops  # no trace through iterations
    ours = grad(solution, (0, 1))(0.5, 0.1)
    theirs = autograd.grad(lambda w, b: ag_fixed_point(
        lambda p: lambda z: anp.tanh(p[0] * z + p[1]), ag_tuple((w, b)), 0.0,
        lambda x, y: anp.abs(x - y), 1e-13), (0, 1))(0.5, 0.1)
    onp.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_parameters_captured_in_a_closure_are_refused_not_silently_unrolled():
    with pytest.raises(ValueError, match="odeint: .*not passed through args"):
        grad(lambda th: odeint(lambda h, t: th * h, onp.array([1.5]),
                               onp.array([0.0, 2.0]))[-1, 0])(0.7)
    with pytest.raises(ValueError, match="fixed_point: .*not passed through a"):
        grad(lambda c: fixed_point(lambda a: lambda x: 0.5 * (x + a / x) + 0 * c, 2.0, 1.0,
                                   lambda x, y: np.abs(x - y), 1e-10))(1.0)
    # constants in the closure are fine
    scale = onp.array([0.5])
    onp.testing.assert_allclose(
        grad(lambda th: odeint(lambda h, t, th: -scale * th * h, onp.array([1.0]),
                               onp.array([0.0, 1.0]), (th,))[-1, 0])(1.0),
        -0.5 * onp.exp(-0.5), rtol=1e-7)
