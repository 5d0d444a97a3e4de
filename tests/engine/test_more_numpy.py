"""The rest of autograd's real-valued NumPy: value, both modes and second order vs autograd.

Each function is written once against a module, ``f(np, *args)``, and `check` (see
conftest) compares mini_autograd with autograd: value, reverse, forward, and H v four
ways; where autograd has no rule (most linalg JVPs, for one) the reference is central
finite differences.  Hypothesis draws the shapes; examples are few (these functions are
compositions or standard rules, and each example runs eight derivatives).
"""

import autograd.scipy.special as ag_special
import autograd.scipy.stats as ag_stats
import numpy as onp
import pytest
from engine_conftest import arrays, check, shapes
from hypothesis import given, settings
from hypothesis import strategies as st

import mini_autograd.numpy as mnp
import mini_autograd.scipy.special as mini_special
import mini_autograd.scipy.stats as mini_stats

few = settings(max_examples=6, deadline=None, derandomize=True)
RNG = onp.random.default_rng(7)


def special(np):
    return mini_special if np is mnp else ag_special


def stats(np):
    return mini_stats if np is mnp else ag_stats


# ---- elementwise -----------------------------------------------------------------------

UNARY = {  # name -> (function, lo, hi, avoid)
    "arccosh": (lambda np, x: np.arccosh(x), 1.2, 3.0, None),
    "exp2": (lambda np, x: np.exp2(x), -2.0, 2.0, None),
    "cbrt": (lambda np, x: np.cbrt(x), -2.0, 2.0, (0.0, 0.3)),
    "deg2rad": (lambda np, x: np.deg2rad(x), -90.0, 90.0, None),
    "rad2deg": (lambda np, x: np.rad2deg(x), -2.0, 2.0, None),
    "sinc": (lambda np, x: np.sinc(x), -2.0, 2.0, (0.0, 0.1)),
    "nan_to_num": (lambda np, x: np.nan_to_num(x), -2.0, 2.0, None),
    "expit": (lambda np, x: special(np).expit(x), -4.0, 4.0, None),
    "logit": (lambda np, x: special(np).logit(x), 0.1, 0.9, None),
    "erf": (lambda np, x: special(np).erf(x), -2.0, 2.0, None),
    "erfc": (lambda np, x: special(np).erfc(x), -2.0, 2.0, None),
    "erfinv": (lambda np, x: special(np).erfinv(x), -0.9, 0.9, None),
    "gammaln": (lambda np, x: special(np).gammaln(x), 0.3, 3.0, None),
    "digamma": (lambda np, x: special(np).digamma(x), 0.3, 3.0, None),
    "gamma": (lambda np, x: special(np).gamma(x), 0.3, 3.0, None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@few
@given(data=st.data())
def test_unary(name, data):
    f, lo, hi, avoid = UNARY[name]
    check(f, data.draw(arrays(shapes(max_dims=2, max_side=3), lo, hi, avoid)))


BINARY = {  # name -> (function, domain of x, domain of y)
    "arctan2": (lambda np, y, x: np.arctan2(y, x), (-2, 2, None), (-2, 2, (0.0, 0.3))),
    "hypot": (lambda np, x, y: np.hypot(x, y), (0.3, 2, None), (-2, 2, None)),
    "mod": (lambda np, x, y: np.mod(x, y), (0.1, 0.9, None), (1.0, 2.0, None)),
    "remainder": (lambda np, x, y: np.remainder(x, y), (2.1, 2.9, None), (1.0, 1.4, None)),
    "logaddexp2": (lambda np, x, y: np.logaddexp2(x, y), (-2, 2, None), (-2, 2, None)),
    "fmax": (lambda np, x, y: np.fmax(x, y), (-2, 2, None), (-2, 2, None)),
    "fmin": (lambda np, x, y: np.fmin(x, y), (-2, 2, None), (-2, 2, None)),
    "percent": (lambda np, x, y: x % y, (2.1, 2.9, None), (1.0, 1.4, None)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@few
@given(data=st.data())
def test_binary(name, data):
    f, xd, yd = BINARY[name]
    shape = data.draw(shapes(max_dims=2, max_side=3))
    check(f, data.draw(arrays(shape, *xd)), data.draw(arrays(shape[-1:], *yd)))


@pytest.mark.parametrize("fun", ["logpdf", "pdf", "cdf"])
def test_scipy_stats_norm_in_every_argument(fun):
    x, loc, scale = RNG.normal(size=(3, 2)), RNG.normal(size=2), RNG.uniform(0.5, 2.0, (3, 1))
    check(lambda np, x, loc, scale: getattr(stats(np).norm, fun)(x, loc, scale), x, loc, scale)


def test_polygamma_is_differentiable_to_any_order():
    x = onp.array([0.7, 1.3, 2.5])
    check(lambda np, x: special(np).polygamma(1, x), x)


def test_logsumexp_with_weights_b():
    x, b = RNG.normal(size=(2, 3)), RNG.uniform(0.5, 2.0, (2, 3))
    check(lambda np, x: special(np).logsumexp(x, axis=1, b=b), x)


# ---- reductions and running totals -------------------------------------------------------

@few
@given(x=arrays(shapes(min_dims=1, max_dims=3, max_side=3), 0.3, 2.0), data=st.data())
def test_cumprod_prod(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check(lambda np, x: np.cumprod(x, axis=axis), x)
    check(lambda np, x: np.cumprod(x), x)
    check(lambda np, x: np.prod(x, axis=axis), x)


@few
@given(x=arrays(shapes(min_dims=1, max_dims=3, max_side=3)), ddof=st.integers(0, 1),
       keepdims=st.booleans())
def test_var_std_with_ddof(x, ddof, keepdims):
    if x.shape[0] <= ddof:
        x = onp.concatenate([x, x + 0.5])
    check(lambda np, x: np.var(x, axis=0, ddof=ddof, keepdims=keepdims), x)
    check(lambda np, x: np.std(x + onp.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1)),
                               axis=0, ddof=ddof, keepdims=keepdims), x)


# ---- rearrangements ----------------------------------------------------------------------

def square(n=3, batch=()):
    return RNG.normal(size=batch + (n, n))


REARRANGE = {  # name -> (function, argument)
    "trace": (lambda np, x: np.trace(x), square()),
    "trace_offset_axes": (lambda np, x: np.trace(x, 1, 1, 2), RNG.normal(size=(2, 3, 4))),
    "diag_of_matrix": (lambda np, x: np.diag(x, -1), RNG.normal(size=(3, 4))),
    "diag_of_vector": (lambda np, x: np.diag(x, 1), RNG.normal(size=3)),
    "diagonal": (lambda np, x: np.diagonal(x, 0, -2, -1), RNG.normal(size=(2, 3, 3))),
    "tril": (lambda np, x: np.tril(x, -1), RNG.normal(size=(2, 3, 4))),
    "triu": (lambda np, x: np.triu(x, 1), RNG.normal(size=(3, 4))),
    "kron": (lambda np, x: np.kron(x, onp.arange(6.0).reshape(2, 3)), RNG.normal(size=(2, 2))),
    "kron_vector_matrix": (lambda np, x: np.kron(onp.ones(2), x), RNG.normal(size=(2, 3))),
    "diff": (lambda np, x: np.diff(x, n=2, axis=0), RNG.normal(size=(4, 3))),
    # autograd's forward rule for diff applies prepend to the tangent too: finite differences
    "diff_prepend": (lambda np, x: np.diff(x, prepend=0.5), RNG.normal(size=(2, 3)),
                     dict(autograd_ok=False)),
    "roll": (lambda np, x: np.roll(x, 2, axis=1), RNG.normal(size=(2, 3))),
    "roll_flat": (lambda np, x: np.roll(x, -4), RNG.normal(size=(2, 3))),
    "roll_tuples": (lambda np, x: np.roll(x, (1, -1), axis=(0, 1)), RNG.normal(size=(2, 3))),
    "rot90": (lambda np, x: np.rot90(x), RNG.normal(size=(2, 3))),
    "rot90_k3_axes": (lambda np, x: np.rot90(x, 3, axes=(1, 2)), RNG.normal(size=(2, 3, 4))),
    "take": (lambda np, x: np.take(x, [2, 0, 2], axis=1), RNG.normal(size=(2, 3))),
    "take_flat": (lambda np, x: np.take(x, onp.array([[5, 0], [0, 1]])), RNG.normal(size=(2, 3))),
    "take_along_axis": (lambda np, x: np.take_along_axis(x, onp.array([[0, 0], [2, 1]]), 1),
                        RNG.normal(size=(2, 3))),
    "swapaxes": (lambda np, x: np.swapaxes(x, 0, -1), RNG.normal(size=(2, 3, 4))),
    "moveaxis_tuples": (lambda np, x: np.moveaxis(x, (0, 1), (-1, 0)), RNG.normal(size=(2, 3, 4))),
    "rollaxis": (lambda np, x: np.rollaxis(x, 2, 0), RNG.normal(size=(2, 3, 4))),
    "atleast_1d": (lambda np, x: np.atleast_1d(x), onp.float64(1.5)),
    "atleast_2d": (lambda np, x: np.atleast_2d(x), RNG.normal(size=3)),
    "atleast_3d": (lambda np, x: np.atleast_3d(x), RNG.normal(size=(2, 3))),
    "atleast_3d_vector": (lambda np, x: np.atleast_3d(x), RNG.normal(size=3)),
    "split": (lambda np, x: np.concatenate(np.split(x, [1, 3], axis=1)[::-1], axis=1),
              RNG.normal(size=(2, 4))),
    "array_split": (lambda np, x: np.array_split(x, 3)[0] * np.array_split(x, 3)[1][:1],
                    RNG.normal(size=5)),
    "hsplit_vsplit": (lambda np, x: np.hsplit(x, 2)[1] + np.vsplit(x, 2)[0].T,
                      RNG.normal(size=(2, 2))),
    "sort": (lambda np, x: np.sort(x, axis=0), RNG.normal(size=(3, 2))),
    "tensordot": (lambda np, x: np.tensordot(x, onp.ones((3, 4, 2)), axes=([1, 2], [0, 1])),
                  RNG.normal(size=(2, 3, 4))),
    "inner": (lambda np, x: np.inner(x, onp.arange(3.0)), RNG.normal(size=(2, 3))),
    "dot_nd": (lambda np, x: np.dot(x, onp.ones((2, 3, 4))), RNG.normal(size=(2, 3))),
    "append": (lambda np, x: np.append(x, x[:1], axis=0), RNG.normal(size=(2, 3))),
    "column_stack": (lambda np, x: np.column_stack([x, 2 * x]), RNG.normal(size=3)),
    # autograd's forward mode returns a non-numeric object for dstack: finite differences
    "dstack": (lambda np, x: np.dstack([x, x]), RNG.normal(size=(2, 3)), dict(autograd_ok=False)),
    "cross": (lambda np, x: np.cross(x, onp.array([0.5, -1.0, 2.0])), RNG.normal(size=(2, 3))),
    "select": (lambda np, x: np.select([x > 0.5, x < -0.5], [x, 2 * x], 0.0),
               onp.array([1.0, -1.0, 0.2, 0.9])),
    "repeat_list": (lambda np, x: np.repeat(x, [1, 0, 2], axis=0), RNG.normal(size=(3, 2))),
    "reshape_order_F": (lambda np, x: np.reshape(x, (3, 2), order="F"), RNG.normal(size=(2, 3))),
    "einsum_interleaved": (lambda np, x: np.einsum(x, [0, 1], onp.ones((3, 2)), [1, 2], [0, 2]),
                           RNG.normal(size=(2, 3))),
    "r_": (lambda np, x: np.r_[x, 2 * x], RNG.normal(size=3)),
    "gradient": (lambda np, x: np.gradient(x, 0.5, axis=0), RNG.normal(size=(4, 2))),
    "gradient_all_axes": (lambda np, x: np.stack(np.gradient(x)), RNG.normal(size=(3, 4))),
    "where_traced_condition": (lambda np, x: np.where(x > 0, x, -2 * x),
                               onp.array([0.5, -1.0, 2.0])),
}


@pytest.mark.parametrize("name", sorted(REARRANGE))
def test_rearrangement(name):
    f, x, *options = REARRANGE[name]
    check(f, x, **(options[0] if options else {}))


# ---- linear algebra ----------------------------------------------------------------------

def spd(n=3, batch=()):
    a = RNG.normal(size=batch + (n, n))
    return a @ onp.swapaxes(a, -1, -2) + n * onp.eye(n)


def symmetrized(np, a):
    lower = np.tril(a)
    return 0.5 * (lower + np.swapaxes(lower, -1, -2))


LINALG = {  # name -> (function, argument)
    "det": (lambda np, a: np.linalg.det(a), square(3, (2,))),
    "slogdet": (lambda np, a: np.linalg.slogdet(a)[1], square(3)),
    "inv": (lambda np, a: np.linalg.inv(a), spd(3)),
    "cholesky": (lambda np, a: np.linalg.cholesky(symmetrized(np, a)), spd(3, (2,))),
    "eigh_values": (lambda np, a: np.linalg.eigh(a)[0], spd(3)),
    "eigh_vectors_upper": (lambda np, a: np.linalg.eigh(a, "U")[1] ** 2, spd(3)),
    "qr_tall": (lambda np, a: np.concatenate([np.ravel(f) for f in np.linalg.qr(a)]),
                RNG.normal(size=(4, 3))),
    "svd_values": (lambda np, a: np.linalg.svd(a, compute_uv=False), RNG.normal(size=(2, 3, 4))),
    "svd_vectors": (lambda np, a: np.linalg.svd(a, full_matrices=False)[0] ** 2,
                    RNG.normal(size=(4, 3))),
    "svd_vh_wide": (lambda np, a: np.linalg.svd(a, full_matrices=False)[2] ** 2,
                    RNG.normal(size=(2, 4))),
    "pinv": (lambda np, a: np.linalg.pinv(a), RNG.normal(size=(4, 2))),
    "norm_p3": (lambda np, a: np.linalg.norm(a, ord=3), RNG.normal(size=4)),
    "norm_nuc": (lambda np, a: np.linalg.norm(a, ord="nuc"), RNG.normal(size=(3, 2))),
    "norm_2_matrix": (lambda np, a: np.linalg.norm(a, ord=2, axis=(0, 2)),
                      RNG.normal(size=(3, 2, 2))),
    "norm_axis_keepdims": (lambda np, a: np.linalg.norm(a, axis=1, keepdims=True),
                           RNG.normal(size=(2, 3))),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg(name):
    f, a = LINALG[name]
    check(f, a)
