"""One function, two engines: differentiate with mini_autograd, check against autograd.

The chapters write a model once, as a function whose first argument is a NumPy module
``np``: ``mini_autograd.numpy`` to differentiate it with the book's engine,
``autograd.numpy`` to differentiate it with the referee, plain ``numpy`` to evaluate it.
The helpers here run such a function through both engines and assert that the results
agree (``book_tools.checking.assert_same``), returning mini_autograd's.
"""

import autograd
import autograd.numpy as anp
import autograd.scipy.special as asp
import numpy as onp
import scipy.special

import mini_autograd
import mini_autograd.numpy as mnp
from mini_autograd import nn

from .checking import assert_same

__all__ = ["grad_both", "jacobian_both", "nn_for"]

_LAYERS = {id(mnp): nn}


def nn_for(np):
    """``mini_autograd.nn``'s layers (relu, sigmoid, softmax, ...) for the NumPy module
    ``np``: the engine's own for ``mini_autograd.numpy``, the same code built on
    ``autograd.numpy`` or plain ``numpy`` otherwise (``nn.layers_for``)."""
    if id(np) not in _LAYERS:
        logsumexp = {id(anp): asp.logsumexp, id(onp): scipy.special.logsumexp}.get(id(np))
        if logsumexp is None:
            raise TypeError(f"nn_for: expected mini_autograd.numpy, autograd.numpy or "
                            f"numpy, got {getattr(np, '__name__', np)!r}")
        _LAYERS[id(np)] = nn.layers_for(np, logsumexp)
    return _LAYERS[id(np)]


def grad_both(f, *args, argnum=0, rtol=1e-9):
    """The gradient of ``f(np, *args)`` with respect to ``args[argnum]``, by
    mini_autograd, asserted equal to autograd's (to ``rtol``, see ``assert_same``)."""
    ours = mini_autograd.grad(lambda *a: f(mnp, *a), argnum)(*args)
    theirs = autograd.grad(lambda *a: f(anp, *a), argnum)(*args)
    assert_same(ours, theirs, rtol=rtol)
    return ours


def jacobian_both(f, x, *rest, rtol=1e-9):
    """The Jacobian of ``x -> f(np, x, *rest)`` by mini_autograd, checked against autograd.

    ``mini_autograd.jacobian`` runs one VJP per output entry.  For the check, autograd
    does all of them in ONE backward pass: ``f`` must treat the rows of a batch
    independently (every network in the book does), so with a batch of m copies of
    ``x`` and the m x m identity as the cotangent, row i of the result is e_i^T J, the
    i-th row of the Jacobian.
    """
    ours = onp.asarray(mini_autograd.jacobian(lambda x: f(mnp, x, *rest))(x))
    m = ours.shape[0]
    copies = onp.tile(x, (m, 1))
    theirs = autograd.grad(lambda H: anp.sum(f(anp, H, *rest) * onp.eye(m)))(copies)
    assert_same(ours, theirs, rtol=rtol, what="Jacobian")
    return ours
