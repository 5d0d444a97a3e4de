"""``scipy.stats.norm`` composed from differentiable functions (every argument, any order)."""

import types as _types

import numpy as _np

from .. import numpy as np
from . import special

_LOG_SQRT_2PI = 0.5 * _np.log(2.0 * _np.pi)
_SQRT_HALF = _np.sqrt(0.5)


def _logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return -0.5 * z * z - np.log(scale) - _LOG_SQRT_2PI


def _pdf(x, loc=0.0, scale=1.0):
    return np.exp(_logpdf(x, loc, scale))


def _cdf(x, loc=0.0, scale=1.0):
    return 0.5 * special.erfc(-(x - loc) / scale * _SQRT_HALF)


def _sf(x, loc=0.0, scale=1.0):
    return 0.5 * special.erfc((x - loc) / scale * _SQRT_HALF)


def _logcdf(x, loc=0.0, scale=1.0):
    return np.log(_cdf(x, loc, scale))


def _logsf(x, loc=0.0, scale=1.0):
    return np.log(_sf(x, loc, scale))


norm = _types.SimpleNamespace(logpdf=_logpdf, pdf=_pdf, cdf=_cdf, sf=_sf, logcdf=_logcdf,
                              logsf=_logsf)
norm.__doc__ = "The normal distribution: ``norm.logpdf(x, loc=0, scale=1)``, pdf, cdf, sf..."
