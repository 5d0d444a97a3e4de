"""odeint to second order (against autograd), in forward mode, and failing fast with a reason."""

import autograd
import autograd.numpy as anp
import numpy as onp
import pytest
from autograd.builtins import tuple as ag_tuple
from autograd.scipy.integrate import odeint as ag_odeint
from engine_conftest import assert_close

import mini_autograd.numpy as mnp
from mini_autograd import grad, make_jvp
from mini_autograd.checks import check_grads
from mini_autograd.ode import ODESolverError, odeint

Y0 = onp.array([1.0, 0.5])
TS = onp.array([0.0, 0.5, 1.2])


def field(np):
    return lambda y, t, a: -a * y + 0.1 * np.sin(t) * y * y


def loss(np, solve, **kw):
    return lambda y0, t, a: np.sum(solve(field(np), y0, t, (a,) if np is mnp else ag_tuple((a,)),
                                         **kw) ** 2)


OURS = loss(mnp, odeint)
THEIRS = loss(anp, ag_odeint, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("argnum", [1, 2])
def test_second_derivative_matches_autograd(argnum):
    """The adjoint rule is solved with odeint itself, so it has an adjoint of its own.
    (y0 goes through the same machinery as the parameters; check_grads below covers it.)"""
    args = (Y0, TS, 0.7)
    v = onp.ones_like(args[argnum])

    def hvp(lib_grad, f):
        g = lib_grad(f, argnum)
        return lib_grad(lambda *a: (mnp if lib_grad is grad else anp).sum(g(*a) * v), argnum)

    assert_close(hvp(grad, OURS)(*args), hvp(autograd.grad, THEIRS)(*args), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("argnum", [0, 1, 2])
def test_forward_mode_matches_reverse_mode(argnum):
    args = (Y0, TS, 0.7)
    v = onp.linspace(0.5, 1.5, onp.size(args[argnum])).reshape(onp.shape(args[argnum]))
    reverse = onp.sum(grad(OURS, argnum)(*args) * v)
    forward = make_jvp(OURS, argnum)(*args)(v)[1]
    assert_close(forward, reverse, rtol=1e-6, atol=1e-8)
    # forward over reverse: the JVP rule of the adjoint solve
    hvp_fr = make_jvp(grad(OURS, argnum), argnum)(*args)(v)[1]
    g = grad(OURS, argnum)
    hvp_rr = grad(lambda *a: mnp.sum(g(*a) * v), argnum)(*args)
    assert_close(hvp_fr, hvp_rr, rtol=1e-5, atol=1e-7)


def test_check_grads_both_modes_second_order():
    check_grads(lambda y0, a: odeint(field(mnp), y0, TS, (a,), method="rk4", steps=10), Y0, 0.7,
                order=2, rtol=1e-4, atol=1e-6)


# ---- failing fast, with the reason ----------------------------------------------------

class Counting:
    """A right-hand side that counts its calls (a deterministic measure of the work)."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, y, t):
        self.calls += 1
        return self.f(y, t)


def test_infinite_end_time_is_refused():
    with pytest.raises(ValueError, match="finite"):
        odeint(lambda y, t: -y, onp.array([1.0]), onp.array([0.0, onp.inf]))


@pytest.mark.parametrize("method", ["dopri5", "rk4"])
def test_nan_stops_at_once_and_says_so(method):
    f = Counting(lambda y, t: mnp.sqrt(y - 2.0))  # NaN for y < 2
    with pytest.raises(ODESolverError, match="NaN") as e, pytest.warns(RuntimeWarning):
        odeint(f, onp.array([1.0]), onp.array([0.0, 1.0]), method=method)
    assert f.calls <= 10, f.calls  # not 100k steps then "stiff"
    assert "t=" in str(e.value) and "step size" in str(e.value)


def test_blow_up_is_reported_as_such():
    f = Counting(lambda y, t: y * y)  # y = 1 / (1 - t): infinite at t = 1
    with pytest.raises(ODESolverError, match="blow up") as e:
        odeint(f, onp.array([1.0]), onp.array([0.0, 2.0]))
    assert "t=1" in str(e.value)  # where it happened
    assert f.calls < 10_000, f.calls


def test_stiff_problem_stops_after_the_step_budget():
    f = Counting(lambda y, t: mnp.array([-1e6 * (y[0] - mnp.cos(t)), -y[1]]))
    with pytest.raises(ODESolverError, match="max_steps=500.*stiff"):
        odeint(f, onp.array([1.0, 1.0]), onp.array([0.0, 10.0]), max_steps=500)
    assert f.calls <= 7 * 500 + 1, f.calls  # seven stages per step, no more
