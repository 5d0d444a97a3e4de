"""Constant-valued helpers pass straight through; gradients w.r.t. containers; argnum."""

import warnings

import autograd
import autograd.numpy as anp
import numpy as onp
import pytest
from engine_conftest import arrays, assert_close, check, engine_settings, fd_grad, shapes
from hypothesis import given
from hypothesis import strategies as st

import mini_autograd.numpy as mnp
from mini_autograd import Box, grad, value_and_grad

# ---- constructors and non-differentiable helpers ------------------------------------

CONSTRUCTORS = {
    "array": lambda np: np.array([[1.0, 2.0], [3.0, 4.0]]),
    "array int": lambda np: np.array([1, 2, 3], dtype=int),
    "asarray": lambda np: np.asarray([1.0, 2.0]),
    "zeros": lambda np: np.zeros((2, 3)),
    "ones": lambda np: np.ones(4),
    "eye": lambda np: np.eye(3, k=1),
    "arange": lambda np: np.arange(1, 7, 2),
    "linspace": lambda np: np.linspace(0.0, 1.0, 5),
    "zeros_like": lambda np: np.zeros_like(onp.ones((2, 2))),
    "ones_like": lambda np: np.ones_like(onp.ones(3)),
    "full": lambda np: np.full((2,), 7.0),
    "argmax": lambda np: np.argmax(onp.array([[1.0, 5.0], [7.0, 2.0]]), axis=1),
    "argmin": lambda np: np.argmin(onp.array([1.0, -5.0, 7.0])),
    "argsort": lambda np: np.argsort(onp.array([3.0, 1.0, 2.0])),
}


@pytest.mark.parametrize("name", list(CONSTRUCTORS))
def test_constructors_pass_straight_through(name):
    ours, expected = CONSTRUCTORS[name](mnp), CONSTRUCTORS[name](onp)
    assert type(ours) is type(expected)
    assert onp.asarray(ours).dtype == onp.asarray(expected).dtype
    onp.testing.assert_array_equal(ours, expected)


CONSTANT_USES = {
    "zeros_like": lambda np, x: x + np.zeros_like(x),
    "ones shape": lambda np, x: x * np.ones(x.shape),
    "eye @": lambda np, x: np.dot(np.eye(x.shape[0]), x),
    "arange": lambda np, x: x * np.arange(x.shape[0]),
    "linspace": lambda np, x: x * np.linspace(0.0, 1.0, x.shape[0]),
    "argmax index": lambda np, x: x[np.argmax(x)] * x,
    "argsort index": lambda np, x: x[np.argsort(x)] ** 2,
    "sign": lambda np, x: np.sign(x) * x,
    "comparison": lambda np, x: np.where(np.greater(x, 0.5), x, 2 * x),
    "floor": lambda np, x: np.floor(x) * x,
}


@pytest.mark.parametrize("name", list(CONSTANT_USES))
@engine_settings
@given(data=st.data())
def test_constant_helpers_on_traced_values(name, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=1), -2, 2, avoid=(0.0, 0.1)))
    x = x + 0.01 * onp.arange(x.size) ** 2  # distinct entries: argmax/argsort are stable
    check(CONSTANT_USES[name], x)


def test_plain_numpy_constant_helpers_on_traced_values():
    seen = {}

    def f(x):
        seen.update(shape=onp.shape(x), ndim=onp.ndim(x), argmax=onp.argmax(x))
        return mnp.sum(x * onp.zeros_like(x) + x ** 2)

    g = grad(f)(onp.array([1.0, 3.0, 2.0]))
    assert seen == {"shape": (3,), "ndim": 1, "argmax": 1}
    onp.testing.assert_allclose(g, [2.0, 6.0, 4.0])


@engine_settings
@given(data=st.data())
def test_sort_is_differentiable(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=1)))
    x = x + 0.01 * onp.arange(x.size) ** 2  # no ties
    check(lambda np, x: np.sort(x), x)
    y = data.draw(arrays(shapes(min_dims=2, max_dims=2)))
    y = y + 0.01 * onp.arange(y.size).reshape(y.shape) ** 2
    # autograd sorts 1-D only: finite differences check the n-d case
    check(lambda np, y: np.sort(y, axis=0) if np is mnp else onp.sort(y, axis=0), y,
          order=1, forward=False)
    ours = grad(lambda y: mnp.sum(mnp.sort(y, axis=0) * onp.arange(y.size).reshape(y.shape)))(y)
    expected = onp.zeros_like(y)
    order = onp.argsort(y, axis=0)
    w = onp.arange(y.size).reshape(y.shape)
    for j in range(y.shape[1]):
        expected[order[:, j], j] = w[:, j]
    onp.testing.assert_allclose(ours, expected)


@pytest.mark.parametrize("name,call", [
    ("meshgrid", lambda np, x: np.meshgrid(x, 2 * x)[1]),
    ("unique", lambda np, x: np.unique(x)),
])
def test_functions_whose_output_moves_with_the_input_are_not_silently_constant(name, call):
    """meshgrid and unique return the input's values: a zero gradient would be wrong.

    Either the gradient is right or the call raises, naming the function.
    """
    x = onp.array([1.0, 3.0, 2.0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = grad(lambda x: mnp.sum(call(mnp, x) ** 2))(x)
    except TypeError as e:
        assert name in str(e)
    else:
        assert_close(g, fd_grad(lambda x: onp.sum(call(onp, x) ** 2), (x,), 0), 1e-5, 1e-6)


# ---- containers and argnum ---------------------------------------------------------

def _tree_loss(np, params):
    (w, b), extra = params["layer"], params["extra"]
    return (np.sum(np.tanh(w @ extra["x"] + b) ** 2) + np.sum(extra["scale"] * w)
            + params["tup"][0] * np.sum(params["tup"][1][0] ** 2))


@engine_settings
@given(data=st.data())
def test_grad_of_nested_containers_preserves_structure(data):
    params = {
        "layer": [data.draw(arrays((2, 3))), data.draw(arrays((2,)))],
        "extra": {"x": data.draw(arrays((3,))), "scale": data.draw(arrays(()))},
        "tup": (1.5, (data.draw(arrays((2,))),)),
    }
    ours = grad(lambda p: _tree_loss(mnp, p))(params)
    ref = autograd.grad(lambda p: _tree_loss(anp, p))(params)
    assert_close(ours, ref)
    assert type(ours["layer"]) is list and type(ours["tup"]) is tuple
    value, g = value_and_grad(lambda p: _tree_loss(mnp, p))(params)
    assert_close(value, _tree_loss(onp, params))
    assert_close(g, ref)


def _three(np, x, y, z):
    return np.sum(np.sin(x) * y) + np.sum(z ** 3) * np.sum(x)


@engine_settings
@given(data=st.data())
def test_argnum_int_and_tuple(data):
    args = (data.draw(arrays((3,))), data.draw(arrays((3,))), data.draw(arrays((2,))))
    for argnum in (0, 1, 2, (0, 2), (2, 0), (0, 1, 2)):
        ours = grad(lambda *a: _three(mnp, *a), argnum)(*args)
        ref = autograd.grad(lambda *a: _three(anp, *a), argnum)(*args)
        assert_close(ours, ref, what=f"argnum={argnum}")
        assert isinstance(ours, tuple) == isinstance(argnum, tuple)


def test_argnum_with_keyword_arguments_and_floats():
    def f(x, y, power=2.0):
        return x ** power * y

    assert_close(grad(f, 1)(3.0, 2.0, power=3.0), 27.0)
    assert_close(grad(f, (0, 1))(3.0, 2.0), (12.0, 9.0))


def test_gradients_are_plain_arrays_not_boxes():
    g = grad(lambda x: mnp.sum(x ** 2))(onp.ones(3))
    assert type(g) is onp.ndarray and not isinstance(g, Box)
