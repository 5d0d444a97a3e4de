"""elementwise_grad, jacobian, jacobian_fwd, value_and_grad, make_vjp, make_jvp vs autograd."""

import autograd
import autograd.numpy as anp
import numpy as onp
import pytest
from engine_conftest import arrays, assert_close, engine_settings, shapes
from hypothesis import given
from hypothesis import strategies as st

import mini_autograd.numpy as mnp
from mini_autograd import (
    elementwise_grad,
    grad,
    jacobian,
    jacobian_fwd,
    make_jvp,
    make_vjp,
    value_and_grad,
)


@engine_settings
@given(x=arrays(shapes()))
def test_elementwise_grad(x):
    def f(np, x):
        return np.tanh(x) * np.exp(-x * x) + x ** 2

    ours = elementwise_grad(lambda x: f(mnp, x))(x)
    assert_close(ours, autograd.elementwise_grad(lambda x: f(anp, x))(x))
    # and its second derivative, elementwise
    ours2 = elementwise_grad(elementwise_grad(lambda x: f(mnp, x)))(x)
    assert_close(ours2, autograd.elementwise_grad(autograd.elementwise_grad(
        lambda x: f(anp, x)))(x))


JAC_FUNCTIONS = {
    "vector->vector": (lambda np, x: np.sin(x) * np.sum(x ** 2), (3,)),
    "matrix->vector": (lambda np, x: np.tanh(x) @ onp.arange(1.0, 4.0), (2, 3)),
    "vector->matrix": (lambda np, x: np.outer(x, np.exp(x)), (3,)),
    "matrix->matrix": (lambda np, x: x @ x.T, (2, 3)),
    "scalar->vector": (lambda np, x: np.array([x, x ** 2, np.sin(x)]), ()),
    "vector->scalar": (lambda np, x: np.sum(np.cos(x)), (4,)),
    "scalar->scalar": (lambda np, x: x ** 3, ()),
}


@pytest.mark.parametrize("name", list(JAC_FUNCTIONS))
@engine_settings
@given(data=st.data())
def test_jacobian_and_jacobian_fwd(name, data):
    f, shape = JAC_FUNCTIONS[name]
    x = data.draw(arrays(shape))
    ref = autograd.jacobian(lambda x: f(anp, x))(x)
    assert_close(jacobian(lambda x: f(mnp, x))(x), ref, what="jacobian")
    assert_close(jacobian_fwd(lambda x: f(mnp, x))(x), ref, what="jacobian_fwd")


@engine_settings
@given(x=arrays((3,)), y=arrays((2,)))
def test_jacobian_argnum(x, y):
    def f(np, x, y):
        return np.outer(np.sin(x), y).ravel()

    for argnum in (0, 1):
        ref = autograd.jacobian(lambda *a: f(anp, *a), argnum)(x, y)
        assert_close(jacobian(lambda *a: f(mnp, *a), argnum)(x, y), ref)
        assert_close(jacobian_fwd(lambda *a: f(mnp, *a), argnum)(x, y), ref)


@engine_settings
@given(x=arrays((2, 2)))
def test_value_and_grad(x):
    def f(np, x, c):
        return np.sum(np.sin(x) ** 2) * c

    v, g = value_and_grad(lambda x, c: f(mnp, x, c))(x, 1.5)
    v_ref, g_ref = autograd.value_and_grad(lambda x, c: f(anp, x, c))(x, 1.5)
    assert_close(v, v_ref)
    assert_close(g, g_ref)
    assert_close(value_and_grad(lambda x, c: f(mnp, x, c), 1)(x, 1.5)[1],
                 autograd.grad(lambda x, c: f(anp, x, c), 1)(x, 1.5))


@engine_settings
@given(x=arrays((3,)), g=arrays((2, 3)), v=arrays((3,)))
def test_make_vjp_and_make_jvp(x, g, v):
    def f(np, x):
        return np.stack([np.sin(x) * x[0], np.cumsum(x ** 2)])

    vjp, ans = make_vjp(lambda x: f(mnp, x))(x)
    vjp_ref, ans_ref = autograd.make_vjp(lambda x: f(anp, x))(x)
    assert_close(ans, ans_ref)
    assert_close(vjp(g), vjp_ref(g))
    assert_close(vjp(2.0 * g), 2.0 * vjp_ref(g), what="the vjp is reusable")
    ans, t = make_jvp(lambda x: f(mnp, x))(x)(v)
    ans_ref, t_ref = autograd.make_jvp(lambda x: f(anp, x))(x)(v)
    assert_close(ans, ans_ref)
    assert_close(t, t_ref)


def test_make_jvp_of_containers():
    def f(np, p):
        return {"a": np.sin(p[0]) * p[1], "b": (p[0] ** 2,)}

    p = [onp.array([0.5, 1.0]), 2.0]
    v = [onp.array([1.0, -1.0]), 0.5]
    ans, t = make_jvp(lambda p: f(mnp, p))(p)(v)
    # the JVP is linear in v: compare with the sum of the JVPs of each leaf
    t0 = make_jvp(lambda x: f(mnp, [x, p[1]]))(p[0])(v[0])[1]
    t1 = make_jvp(lambda y: f(mnp, [p[0], y]))(p[1])(v[1])[1]
    assert_close(t["a"], t0["a"] + t1["a"])
    assert_close(t["b"][0], t0["b"][0] + t1["b"][0])
    assert_close(ans, f(onp, p))


def test_grad_of_a_size_one_output():
    x = onp.array([0.3, 0.4])
    ours = grad(lambda x: mnp.sum(x ** 2, keepdims=True))(x)
    assert_close(ours, autograd.grad(lambda x: anp.sum(x ** 2, keepdims=True))(x))
