"""Higher derivatives: nested grad, hessian, HVPs, mixed modes, perturbation confusion, MAML."""

import warnings

import autograd
import autograd.numpy as anp
import numpy as onp
import pytest
from engine_conftest import arrays, assert_close, engine_settings, floats
from hypothesis import given
from hypothesis import strategies as st

import mini_autograd.numpy as mnp
from mini_autograd import (
    grad,
    hessian,
    hessian_vector_product,
    jacobian,
    jacobian_fwd,
    make_jvp,
    make_vjp,
)

SCALAR_FUNCTIONS = {
    "sin*exp": lambda np, x: np.sin(x) * np.exp(x),
    "tanh^2": lambda np, x: np.tanh(x) ** 2,
    "rational": lambda np, x: x ** 3 / (1.0 + x ** 2),
    "log1p(x^2)": lambda np, x: np.log(1.0 + x * x),
    "sqrt*cos": lambda np, x: np.sqrt(1.0 + x ** 2) * np.cos(x),
    "x^x": lambda np, x: np.abs(x) ** x,
    "2^x*arctan": lambda np, x: 2.0 ** x * np.arctan(x),
    "reciprocal": lambda np, x: 1.0 / (2.0 + np.sin(x)),
}


@pytest.mark.parametrize("name", list(SCALAR_FUNCTIONS))
@engine_settings
@given(x=floats(-2, 2, avoid=(0.0, 0.2)))
def test_third_derivative_every_mode_combination(name, x):
    f = SCALAR_FUNCTIONS[name]
    ours, theirs = (lambda x: f(mnp, x)), (lambda x: f(anp, x))
    d2_ref = autograd.grad(autograd.grad(theirs))(x)
    d3_ref = autograd.grad(autograd.grad(autograd.grad(theirs)))(x)

    def fwd(fun):
        return lambda x: make_jvp(fun)(x)(1.0)[1]

    assert_close(grad(grad(grad(ours)))(x), d3_ref, what="rev^3")
    assert_close(fwd(fwd(fwd(ours)))(x), d3_ref, what="fwd^3")
    assert_close(fwd(grad(grad(ours)))(x), d3_ref, what="fwd(rev(rev))")
    assert_close(grad(fwd(grad(ours)))(x), d3_ref, what="rev(fwd(rev))")
    assert_close(grad(grad(fwd(ours)))(x), d3_ref, what="rev(rev(fwd))")
    assert_close(fwd(fwd(grad(ours)))(x), d3_ref, what="fwd(fwd(rev))")
    assert_close(grad(fwd(ours))(x), d2_ref, what="rev(fwd)")
    assert_close(fwd(fwd(ours))(x), d2_ref, what="fwd(fwd)")


def _vector_fun(np, x):
    y = np.tanh(x @ _A) * np.exp(0.3 * x[..., ::-1])
    return np.sum(y ** 2) + np.prod(1.0 + 0.1 * x ** 2) + np.max(np.sin(x)) ** 2


_A = onp.random.default_rng(3).normal(size=(3, 3))


@engine_settings
@given(x=arrays((3,)))
def test_hessian_vs_autograd(x):
    ref = autograd.hessian(lambda x: _vector_fun(anp, x))(x)
    assert_close(hessian(lambda x: _vector_fun(mnp, x))(x), ref, what="hessian")
    assert_close(jacobian_fwd(grad(lambda x: _vector_fun(mnp, x)))(x), ref,
                 what="jacobian_fwd of grad")
    assert_close(jacobian(jacobian_fwd(lambda x: _vector_fun(mnp, x)))(x), ref,
                 what="jacobian of jacobian_fwd")


@engine_settings
@given(x=arrays((2, 3)), v=arrays((2, 3)))
def test_hessian_of_a_matrix_input(x, v):
    def f(np, x):
        return np.sum(np.tanh(x @ x.T)) + np.sum(np.sin(x) * x[::-1])

    ref = autograd.hessian(lambda x: f(anp, x))(x)
    assert_close(hessian(lambda x: f(mnp, x))(x), ref)
    assert hessian(lambda x: f(mnp, x))(x).shape == (2, 3, 2, 3)
    hvp_ref = autograd.hessian_vector_product(lambda x: f(anp, x))(x, v)
    assert_close(hessian_vector_product(lambda x: f(mnp, x))(x, v), hvp_ref)


@engine_settings
@given(x=arrays((3,)), v=arrays((3,)))
def test_hessian_vector_product_vs_autograd(x, v):
    ref = autograd.hessian_vector_product(lambda x: _vector_fun(anp, x))(x, v)
    assert_close(hessian_vector_product(lambda x: _vector_fun(mnp, x))(x, v), ref)
    # forward-over-reverse by hand, and reverse-over-reverse
    g = grad(lambda x: _vector_fun(mnp, x))
    assert_close(make_jvp(g)(x)(v)[1], ref, what="make_jvp(grad)")
    assert_close(grad(lambda x: mnp.sum(g(x) * v))(x), ref, what="grad(grad . v)")
    # with argnum: H v with respect to the second argument
    ref2 = autograd.hessian_vector_product(lambda c, x: _vector_fun(anp, x) * c, 1)(2.0, x, v)
    assert_close(hessian_vector_product(lambda c, x: _vector_fun(mnp, x) * c, 1)(2.0, x, v),
                 ref2, what="argnum=1")


# ---- perturbation confusion ---------------------------------------------------------

def test_no_perturbation_confusion_reverse():
    assert grad(lambda x: x * grad(lambda y: x + y)(2.0))(3.0) == 1.0


def test_no_perturbation_confusion_forward():
    def outer(x):
        inner_derivative = make_jvp(lambda y: x + y)(2.0)(1.0)[1]
        return x * inner_derivative

    assert make_jvp(outer)(3.0)(1.0)[1] == 1.0


@pytest.mark.parametrize("outer_mode", ["rev", "fwd"])
@pytest.mark.parametrize("inner_mode", ["rev", "fwd"])
def test_no_perturbation_confusion_mixed(outer_mode, inner_mode):
    def d(fun, mode):
        if mode == "rev":
            return grad(fun)
        return lambda x: make_jvp(fun)(x)(1.0)[1]

    # d/dx [x * d/dy (x * y)]|_{y=2} = d/dx [x * x] = 2x = 6 at x = 3
    assert d(lambda x: x * d(lambda y: x * y, inner_mode)(2.0), outer_mode)(3.0) == 6.0
    assert d(lambda x: x * d(lambda y: x + y, inner_mode)(2.0), outer_mode)(3.0) == 1.0


def test_inner_derivative_independent_of_its_input_is_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert grad(lambda x: x * grad(lambda y: x ** 2)(x))(1.5) == 0.0


@engine_settings
@given(b=floats(0.5, 2.5), x=floats(0.5, 2.5))
def test_hypergradient_of_an_exponent(b, x):
    """d/db of d/dx x**b: the exponent is traced by the outer derivative only."""
    ours = grad(lambda b: grad(lambda x: x ** b)(x))(b)
    ref = autograd.grad(lambda b: autograd.grad(lambda x: x ** b)(x))(b)
    assert_close(ours, ref)
    ours = make_jvp(lambda b: grad(lambda x: x ** b)(x))(b)(1.0)[1]
    assert_close(ours, ref, what="forward over reverse")


# ---- grad through a function that calls grad: MAML ------------------------------------

def _maml(np, grad_fn, w, lr, x1, y1, x2, y2):
    def loss(w, x, y):
        return np.mean((np.tanh(x @ w) - y) ** 2)

    adapted = w - lr * grad_fn(loss)(w, x1, y1)
    return loss(adapted, x2, y2)


@engine_settings
@given(data=st.data())
def test_maml_one_step_inner_sgd(data):
    w = data.draw(arrays((3, 2)))
    x1, x2 = data.draw(arrays((4, 3))), data.draw(arrays((4, 3)))
    y1, y2 = data.draw(arrays((4, 2), -1, 1)), data.draw(arrays((4, 2), -1, 1))
    lr = 0.7
    batch = (x1, y1, x2, y2)
    ours = grad(lambda w: _maml(mnp, grad, w, lr, *batch))(w)
    ref = autograd.grad(lambda w: _maml(anp, autograd.grad, w, lr, *batch))(w)
    assert_close(ours, ref, what="meta-gradient")
    # and the hypergradient with respect to the learning rate, in both modes
    ref_lr = autograd.grad(lambda lr: _maml(anp, autograd.grad, w, lr, *batch))(lr)
    assert_close(grad(lambda lr: _maml(mnp, grad, w, lr, *batch))(lr), ref_lr, what="d/dlr")
    assert_close(make_jvp(lambda lr: _maml(mnp, grad, w, lr, *batch))(lr)(1.0)[1], ref_lr,
                 what="d/dlr forward")
    # the meta-gradient's own HVP (third order through the inner grad)
    v = data.draw(arrays((3, 2)))
    ref_h = autograd.hessian_vector_product(lambda w: _maml(anp, autograd.grad, w, lr, *batch)
                                            )(w, v)
    assert_close(hessian_vector_product(lambda w: _maml(mnp, grad, w, lr, *batch))(w, v), ref_h,
                 what="meta HVP")


def test_make_vjp_inside_grad():
    """A VJP taken inside an outer derivative is itself differentiable."""
    x0 = onp.array([0.3, -0.7, 1.1])

    def f(np, make_vjp_fn, x):
        vjp, ans = make_vjp_fn(lambda y: np.sin(y) * x)(x)
        return np.sum(vjp(np.cos(x)) * ans)

    ours = grad(lambda x: f(mnp, make_vjp, x))(x0)
    ref = autograd.grad(lambda x: f(anp, autograd.make_vjp, x))(x0)
    assert_close(ours, ref)
