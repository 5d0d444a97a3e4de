"""Never silently wrong at the edges of the ops: each case gives the right value or a clear error.

* NumPy's optional arguments (where=, initial=, dtype=, axis as a NumPy integer, order='F',
  tuples for moveaxis, a list for repeat, einsum(optimize=)) are supported, or refused at
  the call with a message naming the op, never passed on to a rule that cannot read them.
* Constructors with a traced start/stop/fill are differentiated (linspace, logspace, full,
  full_like); arange, whose length jumps, refuses.
* Complex values met while differentiating are refused in both modes, wherever they appear.
* Rules divide with NumPy semantics: grad(log)(0.0) is inf (with NumPy's warning), not a
  ZeroDivisionError.
* A traced ``where`` condition is a constant (as in autograd); a NumPy function with no rule
  raises NoDerivativeError, also in ``linalg``.
"""

import warnings

import autograd
import autograd.numpy as anp
import numpy as onp
import pytest
from engine_conftest import assert_close, check

import mini_autograd.numpy as mnp
from mini_autograd import NoDerivativeError, grad, make_jvp, make_vjp
from mini_autograd.checks import check_grads

X = onp.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
MASK = onp.array([[True, False, True], [False, True, True]])

# ---- optional arguments: supported ----------------------------------------------------

# autograd's rules ignore where= (its gradient reaches masked-out entries), and its tile
# rule sums a 2-D x tiled along its last axis over the wrong axis (tile(x, 2) with x of
# shape (2, 3)).  These are checked against finite differences instead.
AUTOGRAD_WRONG = {"sum_where_initial", "mean_where", "tile_numpy_int"}
SUPPORTED = {  # name -> function of (np, x), run through autograd too where it can
    "sum_where_initial": lambda np, x: np.sum(x, axis=1, where=MASK, initial=0.5),
    "sum_float_dtype": lambda np, x: np.sum(x, axis=0, dtype=onp.float64),
    "sum_axis_numpy_int": lambda np, x: np.sum(x, axis=onp.int64(1)),
    "mean_where": lambda np, x: np.mean(x, axis=0, where=MASK),
    "mean_axis_numpy_int": lambda np, x: np.mean(x, axis=onp.int32(-1), keepdims=True),
    "max_initial": lambda np, x: np.max(x, axis=1, initial=1.0),
    "min_initial": lambda np, x: np.min(x, axis=0, initial=0.0),
    "var_axis_numpy_int": lambda np, x: np.var(x, axis=onp.int64(0), ddof=1),
    "cumsum_axis_numpy_int": lambda np, x: np.cumsum(x, axis=onp.int64(1)),
    "reshape_order_F": lambda np, x: np.reshape(x, (3, 2), order="F"),
    "reshape_numpy_int_shape": lambda np, x: np.reshape(x, (onp.int64(3), onp.int64(2))),
    "moveaxis_tuples": lambda np, x: np.moveaxis(np.reshape(x, (1, 2, 3)), (0, 2), (2, 0)),
    "repeat_list": lambda np, x: np.repeat(x, [2, 0, 1], axis=1),
    "repeat_numpy_int": lambda np, x: np.repeat(x, onp.int64(2), axis=onp.int64(0)),
    "einsum_optimize": lambda np, x: np.einsum("ij,kj->ik", x, x, optimize=True),
    "swapaxes_numpy_ints": lambda np, x: np.swapaxes(x, onp.int64(0), onp.int64(1)),
    "squeeze_axis_numpy_int": lambda np, x: np.squeeze(np.reshape(x, (1, 6)), axis=onp.int64(0)),
    "concatenate_axis_numpy_int": lambda np, x: np.concatenate([x, x], axis=onp.int64(1)),
    "clip_min_max_keywords": lambda np, x: np.clip(x, min=-0.8, max=1.2),
    "tile_numpy_int": lambda np, x: np.tile(x, onp.int64(2)),
    "tensordot_axes_numpy_int": lambda np, x: np.tensordot(x, np.transpose(x), axes=onp.int64(1)),
}


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_optional_arguments_are_supported(name):
    f = SUPPORTED[name]
    assert_close(f(mnp, X), f(onp, X), what="value equals NumPy's")
    check(f, X, autograd_ok=name not in AUTOGRAD_WRONG)  # else finite differences


REFUSED = {  # name -> (call on a traced x, words the message must hold)
    "sum_int_dtype": (lambda x: mnp.sum(x, dtype=int), ["sum", "dtype"]),
    "sum_out": (lambda x: mnp.sum(x, out=onp.zeros(())), ["sum", "out="]),
    "max_where": (lambda x: mnp.max(x, where=MASK, initial=0.0), ["max", "where"]),
    "prod_initial": (lambda x: mnp.prod(x, initial=2.0), ["prod", "initial"]),
    "axis_float": (lambda x: mnp.sum(x, axis=1.0), ["axis", "integer"]),
    "einsum_out": (lambda x: mnp.einsum("ij->", x, out=onp.zeros(())), ["einsum", "out"]),
    "clip_out": (lambda x: mnp.clip(x, 0.0, 1.0, out=onp.zeros((2, 3))), ["clip", "out="]),
    "reshape_order_A": (lambda x: mnp.reshape(x, (6,), order="A"), ["reshape", "order"]),
    "astype_int": (lambda x: x.astype(int), ["astype", "int"]),
    "arange_traced": (lambda x: mnp.arange(x[0, 0], 3.0), ["arange", "linspace"]),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_arguments_are_refused_at_the_call(name):
    call, words = REFUSED[name]
    with pytest.raises((TypeError, ValueError)) as e:
        make_vjp(lambda x: mnp.sum(call(x)))(X)  # the forward pass alone: refused at the call
    message = str(e.value)
    for word in words:
        assert word in message, (word, message)


# ---- constructors ------------------------------------------------------------------------

def test_linspace_and_full_match_autograd():
    for f in [lambda np, a: np.linspace(a, 2 * a + 1.0, 5),
              lambda np, a: np.full((2, 3), a),
              lambda np, a: np.linspace(a, onp.array([1.0, 3.0]), 4, axis=1)]:
        check(f, 0.7)


@pytest.mark.parametrize("f", [
    lambda a: mnp.logspace(a, 1.0, 4),
    lambda a: mnp.logspace(0.5, a, 3, base=2.0),
    lambda a: mnp.full_like(onp.ones((2, 2)), a),
    lambda a: mnp.linspace(0.0, a, 5, endpoint=False),
    lambda a: mnp.linspace(a, 1.0, 4, retstep=True)[1],
])
def test_constructors_depend_on_their_traced_arguments(f):
    """autograd has no rule for logspace and gives 0 for full_like: finite differences."""
    check_grads(f, 0.7, order=2)
    assert onp.all(grad(lambda a: mnp.sum(f(a)))(0.7) != 0.0)


def test_constructors_on_constants_are_numpys():
    assert_close(mnp.linspace(0.0, 1.0, 5), onp.linspace(0.0, 1.0, 5))
    assert_close(mnp.full((2,), 3.0), onp.full((2,), 3.0))
    assert mnp.arange(3).dtype == onp.arange(3).dtype


# ---- complex values ----------------------------------------------------------------------

COMPLEX = {
    "abs_of_x_times_1j": lambda x: mnp.abs(1j * x),
    "abs_of_x_plus_1j": lambda x: mnp.abs(x + 1j),
    "real_of_exp": lambda x: mnp.real(mnp.exp(1j * x)),
    "dot_with_complex": lambda x: mnp.abs(mnp.dot(onp.array([1j, 1.0]), mnp.stack([x, x]))),
    "concatenate_complex": lambda x: mnp.sum(mnp.abs(mnp.concatenate(
        [onp.array([1j]), mnp.atleast_1d(x)]))),
    "where_complex": lambda x: mnp.abs(mnp.where(True, x, 1j)),
    "einsum_complex": lambda x: mnp.abs(mnp.einsum("i,i->", onp.array([1j]), mnp.atleast_1d(x))),
}


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("name", sorted(COMPLEX))
def test_complex_intermediates_are_refused_not_differentiated_wrongly(name, mode):
    """autograd gives grad(|1j x|)(2) = 1; mini_autograd handles real values only and says so."""
    f = COMPLEX[name]
    with pytest.raises(TypeError, match="complex"):
        if mode == "rev":
            grad(f)(2.0)
        else:
            make_jvp(f)(2.0)(1.0)


def test_astype_complex_of_a_traced_value_is_refused():
    with pytest.raises(TypeError, match="astype"):
        grad(lambda x: mnp.abs(mnp.astype(x, complex)))(2.0)


# ---- division by zero inside rules -------------------------------------------------------

@pytest.mark.parametrize("f,x,expected", [
    (mnp.log, 0.0, onp.inf),
    (mnp.log1p, -1.0, onp.inf),
    (mnp.arctanh, 1.0, onp.inf),
    (lambda x: 1.0 / x, 0.0, -onp.inf),
    (lambda x: mnp.arctan2(x, 0.0), 0.0, onp.nan),
])
def test_rules_divide_like_numpy(f, x, expected):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = grad(f)(x)
        tangent = make_jvp(f)(x)(1.0)[1]
    onp.testing.assert_equal(value, expected)
    onp.testing.assert_equal(tangent, expected)
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)


# ---- where, and functions without a rule -------------------------------------------------

def test_traced_where_condition_is_a_constant_like_autograd():
    f = lambda np, x: np.sum(np.where(x > 0.5, x ** 2, np.sin(x)))  # noqa: E731
    x = onp.array([0.2, 0.9, 1.5])
    assert_close(grad(lambda x: f(mnp, x))(x), autograd.grad(lambda x: f(anp, x))(x))
    assert_close(mnp.where(x > 0.5)[0], onp.where(x > 0.5)[0])


@pytest.mark.parametrize("call", [
    lambda a: mnp.linalg.matrix_power(a, 2),
    lambda a: mnp.linalg.eig(a)[0],
    lambda a: mnp.convolve(a[0], a[1]),
])
def test_functions_without_a_rule_raise_no_derivative_error(call):
    with pytest.raises(NoDerivativeError):
        grad(lambda a: mnp.sum(call(a)))(onp.eye(2))


def test_floating_dtype_argument_sets_the_result_dtype_like_numpy():
    for f in [lambda np, x: np.sum(x, dtype=onp.float32), lambda np, x: np.mean(x, 0, onp.float32)]:
        assert f(mnp, X).dtype == f(onp, X).dtype == onp.float32
        assert grad(lambda x: mnp.sum(f(mnp, x)))(X).dtype == onp.float64  # x's own dtype
