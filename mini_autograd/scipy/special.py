"""Differentiable ``scipy.special``: logsumexp and friends, erf, the gamma family, logit.

Each SciPy function is a primitive whose rules are written with differentiable
functions, so every order of derivative works: ``gammaln' = digamma``,
``digamma' = polygamma(1, .)``, ``polygamma(n, .)' = polygamma(n + 1, .)``.
"""

import numpy as _np
import scipy.special as _sp

from .. import numpy as np
from ..tracer import getval, primitive


def logsumexp(x, axis=None, b=None, keepdims=False):
    """log(sum(b * exp(x))) without overflow: subtract the maximum first.

    The shift ``m`` is taken outside the trace (``getval``): any constant shift gives the
    same value, so treating it as a constant leaves every derivative exact, and the
    gradient comes out as softmax(x) with no tie-splitting from ``max``.
    """
    m = np.max(getval(x), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    terms = np.exp(x - m) if b is None else b * np.exp(x - m)
    out = np.log(np.sum(terms, axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else np.reshape(out, ())
    return out


def expit(x):
    """The logistic sigmoid 1/(1+exp(-x)), written with tanh so it never overflows."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def logit(p):
    """log(p / (1 - p)), the inverse of expit."""
    return np.log(p) - np.log1p(-p)


def softmax(x, axis=-1):
    return np.exp(x - logsumexp(x, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    return x - logsumexp(x, axis=axis, keepdims=True)


def _unary(fun, derivative):
    """A SciPy ufunc of one argument whose derivative is ``derivative(x, ans)``."""
    prim = primitive(fun, name=fun.__name__)
    prim.defvjp(lambda g, ans, x: g * derivative(x, ans))
    prim.defjvp(lambda t, ans, x: t * derivative(x, ans))
    return prim


_TWO_OVER_SQRT_PI = 2.0 / _np.sqrt(_np.pi)

erf = _unary(_sp.erf, lambda x, ans: _TWO_OVER_SQRT_PI * np.exp(-x * x))
erfc = _unary(_sp.erfc, lambda x, ans: -_TWO_OVER_SQRT_PI * np.exp(-x * x))
# erfinv(erf(y)) = y, so erfinv'(x) = 1 / erf'(erfinv(x)); likewise for erfcinv.
erfinv = _unary(_sp.erfinv, lambda x, ans: np.exp(ans * ans) / _TWO_OVER_SQRT_PI)
erfcinv = _unary(_sp.erfcinv, lambda x, ans: -np.exp(ans * ans) / _TWO_OVER_SQRT_PI)


def _polygamma(n, x):
    return _sp.polygamma(n, x)


polygamma = primitive(_polygamma, name="polygamma")
polygamma.defvjp(None, lambda g, ans, n, x: g * polygamma(n + 1, x))
polygamma.defjvp(None, lambda t, ans, n, x: t * polygamma(n + 1, x))

digamma = _unary(_sp.digamma, lambda x, ans: polygamma(1, x))
psi = digamma
gammaln = _unary(_sp.gammaln, lambda x, ans: digamma(x))
gamma = _unary(_sp.gamma, lambda x, ans: ans * digamma(x))
