"""Central differences: a gradient that needs no derivative rule at all.

``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry i of the input.  The
error is O(eps^2) from truncation plus O(rounding / eps) from cancellation, so with
eps = 1e-6 in double precision expect about 6-8 correct digits: enough to catch a wrong
rule, too few to tell two exact methods apart (compare those with each other).
"""

import numpy as onp

__all__ = ["central_differences"]


def central_differences(f, x, eps=1e-6):
    """The gradient of the scalar function ``f`` at ``x`` by central differences.

    ``x`` is a number, an array, or a dict, list or tuple of them; the result has the
    same structure, with float arrays as leaves.  ``f`` receives copies, one entry
    moved by +-eps at a time.
    """
    if isinstance(x, dict):
        keys = list(x)
        grads = central_differences(lambda values: f(dict(zip(keys, values))),
                                    [x[k] for k in keys], eps)
        return dict(zip(keys, grads))
    if isinstance(x, (list, tuple)):
        base = list(x)
        grads = []
        for k, value in enumerate(base):
            def f_k(v, k=k):
                moved = list(base)
                moved[k] = v
                return f(type(x)(moved))
            grads.append(central_differences(f_k, value, eps))
        return type(x)(grads)
    x = onp.array(x, dtype=float)
    g = onp.zeros(x.shape)
    for idx in onp.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        g[idx] = (f(plus) - f(minus)) / (2 * eps)
    return g
