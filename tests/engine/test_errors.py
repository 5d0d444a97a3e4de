"""Every misuse raises the right exception, and its message says what to do instead."""

import warnings

import autograd
import autograd.numpy as anp
import numpy as onp
import pytest
from engine_conftest import assert_close

import mini_autograd.numpy as mnp
from mini_autograd import NoDerivativeError, grad, make_jvp, primitive

X3 = onp.array([0.5, -1.0, 2.0])


def _message(excinfo):
    return str(excinfo.value)


# ---- grad of a non-scalar output -----------------------------------------------------

def test_grad_of_non_scalar_output_names_the_alternatives():
    with pytest.raises(TypeError) as e:
        grad(lambda x: mnp.sin(x))(X3)
    for name in ("elementwise_grad", "jacobian", "make_vjp", "(3,)"):
        assert name in _message(e)


# ---- integer inputs ---------------------------------------------------------------

@pytest.mark.parametrize("value", [3, onp.array([1, 2, 3]), True, onp.arange(4).reshape(2, 2)],
                         ids=["int", "int array", "bool", "int matrix"])
def test_integer_input_asks_for_a_float(value):
    with pytest.raises(TypeError) as e:
        grad(lambda x: mnp.sum(x * 2.0))(value)
    msg = _message(e)
    assert "integer" in msg or "bool" in msg
    assert "float" in msg


def test_integer_input_in_a_container_and_in_forward_mode():
    with pytest.raises(TypeError, match="float"):
        grad(lambda p: p[0] * p[1])([1.0, 2])
    with pytest.raises(TypeError, match="float"):
        make_jvp(lambda x: x * 2.0)(3)(1.0)


# ---- in-place assignment ------------------------------------------------------------

def test_in_place_assignment_into_traced_array():
    def f(x):
        x[0] = 1.0
        return mnp.sum(x)

    with pytest.raises(TypeError) as e:
        grad(f)(X3.copy())
    msg = _message(e)
    assert "In-place" in msg or "in-place" in msg
    assert "where" in msg and "array(" in msg  # the ways to build a new array instead


# ---- plain numpy functions on traced values --------------------------------------------

PLAIN_NUMPY = {
    "sin": lambda np, x: np.sin(x),
    "exp of product": lambda np, x: np.exp(x * np.tanh(x)),
    "sum axis": lambda np, x: np.sum(x ** 2, axis=0),
    "dot": lambda np, x: np.dot(x, x),
    "matmul": lambda np, x: np.matmul(onp.ones((2, 3)), x),
    "maximum": lambda np, x: np.maximum(x, 0.1),
    "mean": lambda np, x: np.mean(x),
    "reshape": lambda np, x: np.reshape(x, (3, 1)),
    "concatenate": lambda np, x: np.concatenate([x, x]),
    "linalg.norm": lambda np, x: np.linalg.norm(x),
    "abs": lambda np, x: np.abs(x),
}


@pytest.mark.parametrize("name", list(PLAIN_NUMPY))
def test_plain_numpy_functions_dispatch_to_differentiable_ones(name):
    f = PLAIN_NUMPY[name]
    ours = grad(lambda x: mnp.sum(f(onp, x)))(X3)  # plain numpy called on a traced value
    ref = autograd.grad(lambda x: anp.sum(f(anp, x)))(X3)
    assert_close(ours, ref)
    v = onp.array([0.3, 1.0, -2.0])
    ans, tangent = make_jvp(lambda x: f(onp, x))(X3)(v)
    ans_ref, tangent_ref = autograd.make_jvp(lambda x: f(anp, x))(X3)(v)
    assert_close(ans, ans_ref)
    assert_close(tangent, tangent_ref)


@pytest.mark.parametrize("name,call", [
    ("fft", lambda x: onp.fft.fft(x)),
    ("eig", lambda x: onp.linalg.eig(mnp.outer(x, x))[0]),
    ("unwrap", lambda x: onp.unwrap(x)),
    ("convolve", lambda x: onp.convolve(x, x)),
])
def test_plain_numpy_function_without_rule_raises_naming_it(name, call):
    with pytest.raises(TypeError) as e:
        grad(lambda x: mnp.sum(call(x)))(X3)
    msg = _message(e)
    assert name in msg
    assert "mini_autograd" in msg  # where the differentiable functions are


# ---- converting a traced value to a constant ---------------------------------------------

@pytest.mark.parametrize("name,convert", [
    ("numpy.asarray", lambda x: onp.asarray(x)),
    ("numpy.array", lambda x: onp.array(x)),
    ("float", lambda x: float(x[0])),
    ("int", lambda x: int(x[0])),
])
def test_conversion_of_a_traced_value_raises(name, convert):
    with pytest.raises(TypeError) as e:
        grad(lambda x: mnp.sum(convert(x) * 2.0))(X3)
    assert "stop_gradient" in _message(e)


# ---- shape mismatches name the operation and both shapes --------------------------------

@pytest.mark.parametrize("op,call,shapes", [
    ("add", lambda x: x + mnp.ones(5), ["(3,)", "(5,)"]),
    ("multiply", lambda x: mnp.ones((2, 2)) * x, ["(2, 2)", "(3,)"]),
    ("subtract", lambda x: mnp.subtract(x, onp.ones((4, 1, 2))), ["(3,)", "(4, 1, 2)"]),
    ("matmul", lambda x: x @ mnp.ones((5, 2)), ["(3,)", "(5, 2)"]),
    ("matmul", lambda x: mnp.dot(mnp.ones((4, 2)), x), ["(4, 2)", "(3,)"]),
    ("maximum", lambda x: mnp.maximum(x, onp.ones(2)), ["(3,)", "(2,)"]),
    ("einsum", lambda x: mnp.einsum("i,i->", x, onp.ones(4)), ["(3,)", "(4,)"]),
])
def test_shape_mismatch_names_op_and_shapes(op, call, shapes):
    for differentiate in (grad, lambda f: lambda x: make_jvp(f)(x)(X3)):
        with pytest.raises(ValueError) as e:
            differentiate(lambda x: mnp.sum(call(x)))(X3)
        msg = _message(e)
        assert op in msg, msg
        for s in shapes:
            assert s in msg, msg


def test_shape_mismatch_on_constants_through_mini_autograd_numpy():
    with pytest.raises(ValueError, match=r"add.*\(3,\) and \(5,\)"):
        mnp.add(onp.ones(3), onp.ones(5))
    with pytest.raises(ValueError, match=r"matmul.*\(3,\) and \(5, 2\)"):
        mnp.matmul(onp.ones(3), onp.ones((5, 2)))


# ---- operations without a derivative rule ------------------------------------------

def test_linalg_function_without_rule_names_it_and_the_argument():
    with pytest.raises(NoDerivativeError) as e:
        grad(lambda a: mnp.sum(mnp.linalg.eigvals(a @ a.T)))(onp.eye(3))
    msg = _message(e)
    assert "eigvals" in msg and "argument 0" in msg and "stop_gradient" in msg
    # on constants the same function just works
    onp.testing.assert_allclose(mnp.linalg.eigvals(onp.eye(2)), [1.0, 1.0])


def test_numpy_function_without_rule_names_it():
    with pytest.raises(TypeError) as e:
        grad(lambda x: mnp.sum(mnp.convolve(x, x)))(X3)
    assert "convolve" in _message(e) and "argument 0" in _message(e)


def test_primitive_without_vjp_names_op_and_argument():
    @primitive
    def scaled_cube(x, scale):
        return scale * x ** 3

    scaled_cube.defvjp(None, lambda g, ans, x, scale: g * x ** 3)
    scaled_cube.defjvp(lambda t, ans, x, scale: 3.0 * scale * x ** 2 * t)
    with pytest.raises(NoDerivativeError) as e:
        grad(lambda x: scaled_cube(x, 2.0))(1.5)
    msg = _message(e)
    assert "scaled_cube" in msg and "'x'" in msg and "reverse" in msg
    assert "stop_gradient" in msg
    # the rules that exist work
    assert grad(lambda s: scaled_cube(1.5, s))(2.0) == 1.5 ** 3
    assert make_jvp(lambda x: scaled_cube(x, 2.0))(1.5)(1.0)[1] == 3.0 * 2.0 * 1.5 ** 2
    with pytest.raises(NoDerivativeError) as e:
        make_jvp(lambda s: scaled_cube(1.5, s))(2.0)(1.0)
    assert "scaled_cube" in _message(e) and "'scale'" in _message(e)
    assert "forward" in _message(e)


def test_traced_value_as_an_index_raises():
    with pytest.raises(TypeError, match="index"):
        grad(lambda x: mnp.sum(x[x[0] > 0] * x[x[1]]))(onp.array([1.0, 0.0]))
    with pytest.raises(TypeError, match="stop_gradient"):  # numpy converts the index first
        grad(lambda x: mnp.sum(X3[x]))(0.0)


def test_output_independent_of_input_warns_and_gives_zeros():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = grad(lambda x: 3.0)(X3)
    assert any("independent" in str(w.message) for w in caught)
    onp.testing.assert_array_equal(g, onp.zeros(3))
