"""Adam, the optimiser the chapters train with when plain gradient descent is too slow.

Adam (Kingma and Ba, 2015) keeps running means of the gradient and of its square and
steps along their ratio, so every parameter moves by about ``lr`` per step whatever
the scale of its gradient.  Parameters may be an array or a dict, list or tuple of
arrays (any nest); the gradient has the same structure.
"""

import numpy as onp

__all__ = ["adam"]


def _map(fun, tree, *rest):
    if isinstance(tree, dict):
        return {k: _map(fun, tree[k], *(r[k] for r in rest)) for k in tree}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map(fun, t, *(r[i] for r in rest)) for i, t in enumerate(tree))
    return fun(tree, *rest)


def adam(value_and_grad_fn, params, steps, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8,
         callback=None):
    """Minimise with Adam; return ``(params, losses)``.

    ``value_and_grad_fn(params)`` returns ``(loss, gradient)`` (for example
    ``mini_autograd.value_and_grad(loss)``; for a stochastic objective, a function that
    draws its own batch).  ``callback(step, params, gradient)``, if given, runs before
    each update (``step`` counts from 0): the place to check the gradient against a
    referee.  ``losses[i]`` is the loss before update i.  ``params`` is not modified.
    """
    # 1 - 0.9 is 0.09999999999999998 in binary floating point; round it to the decimal
    # the caller means, so that a chapter's training run does not depend on whether its
    # author wrote (1 - beta1) or 0.1 (the runs differ after a few hundred steps).
    weight1, weight2 = round(1 - beta1, 12), round(1 - beta2, 12)
    params = _map(lambda p: onp.array(p, dtype=float), params)
    mean = _map(onp.zeros_like, params)
    mean_sq = _map(onp.zeros_like, params)
    losses = []
    for t in range(1, steps + 1):
        loss, g = value_and_grad_fn(params)
        if callback is not None:
            callback(t - 1, params, g)
        losses.append(loss)
        mean = _map(lambda m, gi: beta1 * m + weight1 * gi, mean, g)
        mean_sq = _map(lambda v, gi: beta2 * v + weight2 * gi ** 2, mean_sq, g)
        correct1, correct2 = 1 - beta1 ** t, 1 - beta2 ** t     # the bias corrections
        params = _map(lambda p, m, v, c1=correct1, c2=correct2:
                      p - lr * ((m / c1) / (onp.sqrt(v / c2) + eps)), params, mean, mean_sq)
    return params, onp.array(losses)
