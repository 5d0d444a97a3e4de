"""``logsumexp`` and friends, stable for large logits and differentiable to any order."""

from .. import numpy as np
from ..tracer import getval


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) without overflow: subtract the maximum first.

    The shift ``m`` is taken outside the trace (``getval``): any constant shift gives the
    same value, so treating it as a constant leaves every derivative exact, and the
    gradient comes out as softmax(x) with no tie-splitting from ``max``.
    """
    m = np.max(getval(x), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    total = np.sum(np.exp(x - m), axis=axis, keepdims=True)
    out = np.log(total) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else np.reshape(out, ())
    return out


def expit(x):
    """The logistic sigmoid 1/(1+exp(-x)), written with tanh so it never overflows."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def softmax(x, axis=-1):
    return np.exp(x - logsumexp(x, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    return x - logsumexp(x, axis=axis, keepdims=True)
