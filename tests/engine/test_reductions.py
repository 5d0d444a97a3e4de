"""Reductions (sum mean max min var std prod cumsum) with every kind of axis, and ties."""

import numpy as onp
import pytest
from engine_conftest import arrays, axis_args, check, engine_settings, shapes, tied_arrays
from hypothesis import given
from hypothesis import strategies as st

import mini_autograd.numpy as mnp
from mini_autograd import grad


@st.composite
def array_axis_keepdims(draw, elements=arrays, min_dims=0):
    shape = draw(shapes(min_dims=min_dims))
    x = draw(elements(shape))
    return x, draw(axis_args(len(shape))), draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "amax", "amin"])
@engine_settings
@given(case=array_axis_keepdims())
def test_reduction_axis_keepdims(name, case):
    x, axis, keepdims = case
    check(lambda np, x: getattr(np, name)(x, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@engine_settings
@given(case=array_axis_keepdims(min_dims=1))
def test_reduction_positional_axis_and_method(name, case):
    x, axis, keepdims = case
    check(lambda np, x: getattr(np, name)(x, axis), x)
    # the method on a box, against autograd's function
    check(lambda np, x: (getattr(x, name)(axis=axis, keepdims=keepdims) if np is mnp
                         else getattr(np, name)(x, axis=axis, keepdims=keepdims)), x)
    check(lambda np, x: getattr(x, name)() if np is mnp else getattr(np, name)(x), x)


@pytest.mark.parametrize("name", ["max", "min"])
@engine_settings
@given(case=array_axis_keepdims(elements=tied_arrays))
def test_max_min_split_ties_evenly_like_autograd(name, case):
    x, axis, keepdims = case
    check(lambda np, x: getattr(np, name)(x, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_tie_shares_are_exact(name):
    x = onp.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    if name == "min":
        x = -x
    g = grad(lambda x: mnp.sum(getattr(mnp, name)(x, axis=1)))(x)
    onp.testing.assert_array_equal(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


@pytest.mark.parametrize("name", ["var", "std"])
@engine_settings
@given(case=array_axis_keepdims(min_dims=1), ddof=st.integers(0, 1))
def test_var_std(name, case, ddof):
    x, axis, keepdims = case
    axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    n = int(onp.prod([x.shape[a] for a in axes]))
    if n - ddof <= 0:
        ddof = 0
    if name == "std":
        if n == 1:
            return  # sqrt of a zero variance: no derivative
        x = x + 5.0 * onp.arange(x.size).reshape(x.shape)  # entries spread: variance > 0
    check(lambda np, x: getattr(np, name)(x, axis=axis, ddof=ddof, keepdims=keepdims), x,
          rtol=1e-5, atol=1e-7)


@engine_settings
@given(case=array_axis_keepdims(
    elements=lambda s: arrays(s, -1.5, 1.5, avoid=(0.0, 0.5)), min_dims=0))
def test_prod(case):
    x, axis, keepdims = case
    check(lambda np, x: np.prod(x, axis=axis, keepdims=keepdims), x)


def test_prod_of_constants_with_zeros_is_plain_numpy():
    onp.testing.assert_array_equal(mnp.prod(onp.array([[3.0, 0.0], [2.0, 5.0]]), axis=1),
                                   [0.0, 10.0])


@engine_settings
@given(data=st.data())
def test_cumsum(data):
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape))
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    check(lambda np, x: np.cumsum(x, axis=axis), x)
    check(lambda np, x: x.cumsum(axis) if np is mnp else np.cumsum(x, axis), x)
