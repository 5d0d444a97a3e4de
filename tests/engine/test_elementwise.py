"""Elementwise primitives and operators: value, reverse, forward and second order vs autograd."""

import numpy as onp
import pytest
from engine_conftest import (
    arrays,
    broadcastable_pair,
    check,
    engine_settings,
    floats,
    shapes,
    tied_arrays,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mini_autograd.numpy as mnp

# name -> (lo, hi, avoid): a domain where the function is smooth
UNARY = {
    "exp": (-2, 2, None), "expm1": (-2, 2, None),
    "log": (0.1, 3, None), "log1p": (-0.6, 3, None), "log2": (0.1, 3, None),
    "log10": (0.1, 3, None), "sqrt": (0.1, 3, None), "square": (-2, 2, None),
    "reciprocal": (-2, 2, (0.0, 0.25)),
    "sin": (-3, 3, None), "cos": (-3, 3, None), "tan": (-1.2, 1.2, None),
    "arcsin": (-0.9, 0.9, None), "arccos": (-0.9, 0.9, None), "arctan": (-3, 3, None),
    "sinh": (-2, 2, None), "cosh": (-2, 2, None), "tanh": (-2, 2, None),
    "arctanh": (-0.9, 0.9, None), "arcsinh": (-3, 3, None),
    "abs": (-2, 2, (0.0, 0.05)), "absolute": (-2, 2, (0.0, 0.05)), "fabs": (-2, 2, (0.0, 0.05)),
    "negative": (-2, 2, None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@engine_settings
@given(data=st.data())
def test_unary(name, data):
    lo, hi, avoid = UNARY[name]
    x = data.draw(arrays(shapes(), lo, hi, avoid))
    check(lambda np, x: getattr(np, name)(x), x)


@pytest.mark.parametrize("name", ["abs", "absolute", "fabs"])
def test_abs_at_zero_has_zero_derivative_like_autograd(name):
    x = onp.array([-1.0, 0.0, 2.0])
    check(lambda np, x: getattr(np, name)(x), x)


@pytest.mark.parametrize("name", ["sin", "exp", "tanh", "log"])
@engine_settings
@given(x=floats(0.2, 2.0))
def test_unary_of_python_float(name, x):
    check(lambda np, x: getattr(np, name)(x), x)


# name -> (domain of x, domain of y)
BINARY = {
    "add": ((-2, 2, None), (-2, 2, None)),
    "subtract": ((-2, 2, None), (-2, 2, None)),
    "multiply": ((-2, 2, None), (-2, 2, None)),
    "divide": ((-2, 2, None), (-2, 2, (0.0, 0.3))),
    "true_divide": ((-2, 2, None), (-2, 2, (0.0, 0.3))),
    "power": ((0.2, 2, None), (-2, 2, None)),
    "maximum": ((-2, 2, None), (-2, 2, None)),
    "minimum": ((-2, 2, None), (-2, 2, None)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@engine_settings
@given(data=st.data())
def test_binary_broadcasting(name, data):
    (xd, yd) = BINARY[name]
    sx, sy = data.draw(broadcastable_pair())
    x = data.draw(arrays(sx, *xd))
    y = data.draw(arrays(sy, *yd))
    check(lambda np, x, y: getattr(np, name)(x, y), x, y)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@engine_settings
@given(data=st.data())
def test_maximum_minimum_split_ties_evenly(name, data):
    sx, sy = data.draw(broadcastable_pair())
    x = data.draw(tied_arrays(sx))
    y = data.draw(tied_arrays(sy))
    check(lambda np, x, y: getattr(np, name)(x, y), x, y)
    # a tie on purpose: each argument gets half of the gradient
    check(lambda np, x: getattr(np, name)(x, x * 1.0), x)


def test_maximum_tie_gives_half_to_each_argument():
    import mini_autograd.numpy as np
    from mini_autograd import grad

    gx, gy = grad(lambda x, y: np.maximum(x, y), argnum=(0, 1))(1.5, 1.5)
    assert (gx, gy) == (0.5, 0.5)


@engine_settings
@given(data=st.data())
def test_power_integer_exponents_any_sign_base(data):
    x = data.draw(arrays(shapes(), -2, 2))
    for p in (0.0, 1.0, 2.0, 3.0):
        check(lambda np, x, p=p: np.power(x, p), x)
        check(lambda np, x, p=p: x ** p, x)
    check(lambda np, x: x ** 2, x)  # a Python int exponent


@engine_settings
@given(data=st.data())
def test_power_both_arguments_traced(data):
    x = data.draw(arrays(shapes(), 0.3, 2))
    check(lambda np, x: x ** x, x)
    check(lambda np, x: np.power(x, np.sin(x)), x)


# ---- operators, reflected operators, mixing with ndarrays and Python floats -----------

OPERATORS = {
    "x + y": lambda np, x, y: x + y,
    "x - y": lambda np, x, y: x - y,
    "x * y": lambda np, x, y: x * y,
    "x / y": lambda np, x, y: x / y,
    "x ** y": lambda np, x, y: np.abs(x) ** y,
    "-x + y": lambda np, x, y: -x + y,
    "abs(x) * y": lambda np, x, y: abs(x) * y,
    "+x * y": lambda np, x, y: (+x) * y if np is mnp else x * y,  # autograd has no unary +
}


@pytest.mark.parametrize("expr", sorted(OPERATORS))
@engine_settings
@given(data=st.data())
def test_operators(expr, data):
    sx, sy = data.draw(broadcastable_pair())
    x = data.draw(arrays(sx, -2, 2, avoid=(0.0, 0.3)))
    y = data.draw(arrays(sy, -2, 2, avoid=(0.0, 0.3)))
    check(OPERATORS[expr], x, y)


REFLECTED = {
    "2.0 * x": lambda np, x, c: 2.0 * x,
    "2.0 + x": lambda np, x, c: 2.0 + x,
    "2.0 - x": lambda np, x, c: 2.0 - x,
    "2.0 / x": lambda np, x, c: 2.0 / x,
    "2.0 ** x": lambda np, x, c: 2.0 ** x,
    "x ** 3": lambda np, x, c: x ** 3,
    "x / 4": lambda np, x, c: x / 4,
    "ndarray + x": lambda np, x, c: c + x,
    "ndarray - x": lambda np, x, c: c - x,
    "ndarray * x": lambda np, x, c: c * x,
    "ndarray / x": lambda np, x, c: c / x,
    "ndarray ** x": lambda np, x, c: onp.abs(c) ** x,
    "x - ndarray": lambda np, x, c: x - c,
    "float64 * x": lambda np, x, c: onp.float64(1.5) * x,
    "list + x": lambda np, x, c: c.tolist() + x,
}


@pytest.mark.parametrize("expr", sorted(REFLECTED))
@engine_settings
@given(data=st.data())
def test_reflected_operators(expr, data):
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, -2, 2, avoid=(0.0, 0.3)))
    c = data.draw(arrays(shape, -2, 2, avoid=(0.0, 0.3)))
    check(lambda np, x: REFLECTED[expr](np, x, c), x)


@engine_settings
@given(data=st.data())
def test_matmul_operator_and_reflected_matmul(data):
    n, k, m = data.draw(st.tuples(*[st.integers(1, 4)] * 3))
    a = data.draw(arrays((n, k)))
    b = data.draw(arrays((k, m)))
    check(lambda np, a, b: a @ b, a, b)
    check(lambda np, b: a @ b, b)  # ndarray @ box
    check(lambda np, a: a @ b, a)  # box @ ndarray


# ---- clip, where, sign ---------------------------------------------------------------

@engine_settings
@given(data=st.data())
def test_clip(data):
    x = data.draw(arrays(shapes(), -2, 2))
    check(lambda np, x: np.clip(x, -0.5, 1.0), x)
    check(lambda np, x: np.clip(x, None, 1.0), x)
    # the method on a box vs autograd's function
    check(lambda np, x: x.clip(-0.5, 1.0) if np is mnp else np.clip(x, -0.5, 1.0), x)


@engine_settings
@given(data=st.data())
def test_clip_at_the_bounds_matches_autograd(data):
    x = data.draw(tied_arrays(shapes()))  # values -1, 0.5, 2: some sit exactly on a bound
    check(lambda np, x: np.clip(x, 0.5, 2.0), x)


@engine_settings
@given(data=st.data())
def test_where_broadcasting(data):
    sc, sx, sy = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3,
                                                              max_side=3)).input_shapes
    c = data.draw(hnp.arrays(bool, sc))
    x = data.draw(arrays(sx))
    y = data.draw(arrays(sy))
    check(lambda np, x, y: np.where(c, x, y), x, y)
    check(lambda np, x: np.where(x > 0.5, x * x, -x), x)


@engine_settings
@given(data=st.data())
def test_sign_is_locally_constant(data):
    x = data.draw(arrays(shapes(), -2, 2, avoid=(0.0, 0.1)))
    check(lambda np, x: np.sign(x) * x, x)
