"""Shared strategies and checkers for the engine tests.

Every differentiable function is written once against a module parameter,
``def f(np, *args)``, and run with ``mini_autograd.numpy`` and with
``autograd.numpy``.  `check` then compares, argument by argument:

* the value,
* reverse mode: ``grad`` of ``sum(f(*args) * W)`` for fixed random weights ``W``,
* forward mode: ``make_jvp(f)(*args)(v)``,
* second order, H v for ``L2 = sum(W * f * f)`` (so that even a linear ``f`` has a
  non-zero second derivative that runs through its rules) four ways: reverse over
  reverse ``grad(sum(grad(L2) * v))``, forward over reverse ``make_jvp(grad(L2))``,
  reverse over forward ``grad(make_jvp(L2)(x)(v))`` and forward over forward (v.H v),
  all against autograd's reverse over reverse,

and falls back to central finite differences wherever autograd itself has no rule.

The test modules import this file as ``engine_conftest`` (registered below), so that
the import does not depend on which ``conftest`` module pytest loaded last.
"""

import os
import sys
import warnings

import autograd
import autograd.numpy as anp
import numpy as onp
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mini_autograd
import mini_autograd.numpy as mnp

sys.modules.setdefault("engine_conftest", sys.modules[__name__])

# ----------------------------------------------------------------------------------
# Hypothesis settings: reproducible (derandomize) and quick; ENGINE_EXAMPLES=500 for a
# deeper local run.

engine_settings = settings(
    max_examples=int(os.environ.get("ENGINE_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)

RTOL, ATOL = 1e-6, 1e-8
FD_RTOL, FD_ATOL = 1e-5, 1e-6

# ----------------------------------------------------------------------------------
# Strategies


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def floats(lo=-2.0, hi=2.0, avoid=None):
    """Finite floats in [lo, hi]; ``avoid=(a, r)`` keeps them at least r away from a."""
    s = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)
    if avoid is not None:
        a, r = avoid
        s = s.map(lambda v: v if abs(v - a) >= r else a + (r if v >= a else -r))
    return s


def arrays(shape, lo=-2.0, hi=2.0, avoid=None):
    """float64 arrays of ``shape`` (a tuple or a strategy of tuples)."""
    return hnp.arrays(onp.float64, shape, elements=floats(lo, hi, avoid))


def tied_arrays(shape):
    """Arrays of a few distinct values, so that ties (in max, min, maximum...) are common."""
    return hnp.arrays(onp.float64, shape, elements=st.sampled_from([-1.0, 0.5, 2.0]))


def broadcastable_pair(min_dims=0, max_dims=3, max_side=3):
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side
                                             ).map(lambda bs: bs.input_shapes)


@st.composite
def axis_args(draw, ndim, allow_none=True, allow_tuple=True):
    """An ``axis`` for a reduction over ``ndim`` axes: None, an int or a tuple, maybe negative."""
    kinds = (["none"] if allow_none or ndim == 0 else []) + (["int"] if ndim else [])
    if allow_tuple:
        kinds.append("tuple")
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)) if ndim else []
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


# ----------------------------------------------------------------------------------
# Comparison helpers


def assert_close(actual, expected, rtol=RTOL, atol=ATOL, what=""):
    """Same structure, same shapes, same numbers (within tolerance)."""
    if isinstance(expected, (list, tuple, dict)):
        assert type(actual) is type(expected), f"{what}: {type(actual)} != {type(expected)}"
        if isinstance(expected, dict):
            assert set(actual) == set(expected), what
            for k in expected:
                assert_close(actual[k], expected[k], rtol, atol, f"{what}[{k!r}]")
            return
        assert len(actual) == len(expected), what
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, rtol, atol, f"{what}[{i}]")
        return
    assert not isinstance(actual, mini_autograd.Box), f"{what}: result is still boxed"
    assert onp.shape(actual) == onp.shape(expected), (
        f"{what}: shape {onp.shape(actual)} != expected {onp.shape(expected)}")
    if not onp.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):  # fast path
        onp.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def rng_for(*shapes_):
    """A generator seeded by the shapes involved: fixed weights, reproducible failures."""
    seed = abs(hash(tuple(tuple(s) for s in shapes_))) % (2**32)
    return onp.random.default_rng(seed)


def random_like(x, rng):
    return rng.normal(size=onp.shape(x)) if onp.ndim(x) else float(rng.normal())


def _with(args, i, xi):
    args = list(args)
    args[i] = xi
    return args


def fd_grad(fun, args, i, eps=1e-6):
    """Central-difference gradient of scalar ``fun(*args)`` w.r.t. args[i]."""
    x = onp.asarray(args[i], dtype=float)
    g = onp.zeros(x.shape)
    for idx in onp.ndindex(*x.shape):
        e = onp.zeros(x.shape)
        e[idx] = eps
        up = fun(*_with(args, i, x + e if x.ndim else float(x + e)))
        down = fun(*_with(args, i, x - e if x.ndim else float(x - e)))
        g[idx] = (up - down) / (2 * eps)
    return g if x.ndim else float(g)


def fd_jvp(fun, args, i, v, eps=1e-6):
    """Central-difference directional derivative of ``fun`` along v in args[i]."""
    x = onp.asarray(args[i], dtype=float)
    up = onp.asarray(fun(*_with(args, i, x + eps * onp.asarray(v))))
    down = onp.asarray(fun(*_with(args, i, x - eps * onp.asarray(v))))
    return (up - down) / (2 * eps)


def _fail():
    raise NotImplementedError


def _reference_of(compute, fallback, shape=None):
    """autograd's answer if it can give one, else the finite-difference fallback.

    autograd lacks some rules (NotImplementedError) and has a few bugs of its own (its
    forward rule for ``where`` fails on 0-d arrays, for one); either way the reference
    becomes finite differences, never mini_autograd itself.  So does an autograd answer
    of the wrong ``shape`` (its ``where`` VJP does not sum a gradient back over axes
    that only the condition broadcast), or with NaNs where the derivative exists (its
    ord=inf vector norm).
    """
    try:
        ref = compute()
    except Exception:  # noqa: BLE001  (any failure of the reference library)
        return fallback(), True
    if shape is not None and onp.shape(ref) != shape or not onp.all(onp.isfinite(ref)):
        return fallback(), True
    return ref, False


def check(f, *args, argnums=None, order=2, forward=True, rtol=RTOL, atol=ATOL,
          autograd_ok=True):
    """Compare mini_autograd with autograd on ``f(np, *args)``; see the module docstring.

    ``autograd_ok=False`` compares with finite differences only, for the cases where
    autograd's own rule is known to be wrong.
    """
    argnums = range(len(args)) if argnums is None else argnums
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = f(mnp, *args)
        assert not isinstance(value, mini_autograd.Box)
        assert_close(value, f(anp, *args), rtol, atol, "value")
        rng = rng_for(onp.shape(value), *[onp.shape(a) for a in args])
        w = random_like(value, rng)
        for i in argnums:
            _Check(f, args, i, value, w, random_like(args[i], rng), rtol, atol,
                   autograd_ok).run(order, forward)
    return value


class _Check:
    """The comparisons of `check` for one argument ``args[i]``; v is a tangent direction."""

    def __init__(self, f, args, i, value, w, v, rtol, atol, autograd_ok):
        self.f, self.args, self.i, self.value, self.w, self.v = f, args, i, value, w, v
        self.tol, self.autograd_ok = (rtol, atol), autograd_ok

    def loss1(self, np):
        return lambda *a: np.sum(self.f(np, *a) * self.w)

    def loss2(self, np):
        return lambda *a: np.sum(self.w * self.f(np, *a) * self.f(np, *a))

    def fun(self, np):
        return lambda *a: self.f(np, *a)

    def compare(self, ours, reference, fallback, shape, what):
        ref, fd = _reference_of(reference if self.autograd_ok else _fail, fallback, shape)
        assert_close(ours, ref, *((FD_RTOL, FD_ATOL) if fd else self.tol), what)
        return ref, fd

    def autograd_jvp(self):
        """autograd's JVP; where it has no forward rule, its reverse-mode Jacobian times v.

        (Not finite differences: at a tie of max/min the derivative is a convention.)
        """
        args, i, v = self.args, self.i, self.v
        try:
            return autograd.make_jvp(self.fun(anp), i)(*args)(v)[1]
        except Exception:  # noqa: BLE001
            jac = autograd.jacobian(self.fun(anp), i)(*args)
            return onp.tensordot(jac, v, axes=onp.ndim(v))

    def run(self, order, forward):
        args, i, v = self.args, self.i, self.v
        # reverse
        self.compare(mini_autograd.grad(self.loss1(mnp), i)(*args),
                     lambda: autograd.grad(self.loss1(anp), i)(*args),
                     lambda: fd_grad(self.loss1(anp), args, i), onp.shape(args[i]),
                     f"grad wrt arg {i}")
        # forward
        if forward:
            ans, tangent = mini_autograd.make_jvp(self.fun(mnp), i)(*args)(v)
            assert_close(ans, self.value, *self.tol, "make_jvp value")
            self.compare(tangent, self.autograd_jvp,
                         lambda: fd_jvp(self.fun(anp), args, i, v), onp.shape(self.value),
                         f"jvp wrt arg {i}")
        if order < 2:
            return
        # second order: H v for L2, reverse-over-reverse then forward-over-reverse
        g_ours = mini_autograd.grad(self.loss2(mnp), i)
        hvp_rr = mini_autograd.grad(lambda *a: mnp.sum(g_ours(*a) * v), i)(*args)
        g_ref = autograd.grad(self.loss2(anp), i)
        ref, fd = self.compare(
            hvp_rr, lambda: autograd.grad(lambda *a: anp.sum(g_ref(*a) * v), i)(*args),
            lambda: fd_jvp(lambda *a: onp.asarray(g_ours(*a)), args, i, v), onp.shape(args[i]),
            f"reverse-over-reverse H v wrt arg {i}")
        if forward:
            tol = (FD_RTOL, FD_ATOL) if fd else self.tol
            hvp_fr = mini_autograd.make_jvp(g_ours, i)(*args)(v)[1]
            assert_close(hvp_fr, ref, *tol, f"forward-over-reverse H v wrt arg {i}")
            # the JVP rules must be differentiable too: d/dx (J_L2 v) = H v, and v.H v
            def jvp2(*a):
                return mini_autograd.make_jvp(self.loss2(mnp), i)(*a)(v)[1]

            hvp_rf = mini_autograd.grad(jvp2, i)(*args)
            assert_close(hvp_rf, ref, *tol, f"reverse-over-forward H v wrt arg {i}")
            vhv = mini_autograd.make_jvp(jvp2, i)(*args)(v)[1]
            assert_close(vhv, onp.sum(ref * v), *tol, f"forward-over-forward v.H v wrt arg {i}")
