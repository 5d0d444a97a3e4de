"""``check_grads``: test derivative rules against finite differences, as autograd does.

A full Jacobian is too expensive to compare entry by entry, so each check uses random
directions: for reverse mode, with random ``u`` (input-shaped) and ``v``
(output-shaped), the number ``<vjp(v), u>`` must equal ``<v, J u>``, and ``J u`` can be
estimated by a central difference ``(f(x + eps u) - f(x - eps u)) / (2 eps)``.  Forward
mode compares ``jvp(u)`` with the same difference.  For ``order=2`` the checks are
repeated on the functions ``(x, v) -> vjp(v)`` and ``(x, u) -> jvp(u)``, which tests
the derivative rules of the rules.  A wrong rule fails with a message saying which
mode and order disagreed, and by how much.
"""

import numpy as _np

from .core import make_jvp, make_vjp
from .tracer import getval
from .tree import tree_flatten


def _random_like(x, rng):
    leaves, unflatten = tree_flatten(x)
    return unflatten([rng.standard_normal(_np.shape(getval(leaf))) for leaf in leaves])


def _combine(x, u, scale):
    xl, unflatten = tree_flatten(x)
    ul, _ = tree_flatten(u)
    return unflatten([_np.asarray(getval(a), dtype=float) + scale * b for a, b in zip(xl, ul)])


def _inner(a, b):
    al, _ = tree_flatten(a)
    bl, _ = tree_flatten(b)
    return float(sum(_np.sum(_np.asarray(getval(p)) * _np.asarray(getval(q)))
                     for p, q in zip(al, bl)))


def _numeric_jvp(f, x, u, eps):
    plus, minus = f(_combine(x, u, eps)), f(_combine(x, u, -eps))
    pl, unflatten = tree_flatten(plus)
    ml, _ = tree_flatten(minus)
    return unflatten([(_np.asarray(getval(p)) - _np.asarray(getval(m))) / (2 * eps)
                      for p, m in zip(pl, ml)])


def _close(exact, numeric, rtol, atol, what):
    el, _ = tree_flatten(exact)
    nl, _ = tree_flatten(numeric)
    for e, n in zip(el, nl):
        e, n = _np.asarray(getval(e), dtype=float), _np.asarray(getval(n), dtype=float)
        if not _np.allclose(e, n, rtol=rtol, atol=atol):
            raise AssertionError(
                f"{what}: derivative rule disagrees with finite differences\n"
                f"  rule:    {e}\n  numeric: {n}\n  max abs difference "
                f"{_np.max(_np.abs(e - n)):.3g} (rtol={rtol}, atol={atol})"
            )


def check_vjp(f, x, rng, eps=1e-6, rtol=1e-5, atol=1e-6, label="rev"):
    vjp, y = make_vjp(f)(x)
    u, v = _random_like(x, rng), _random_like(y, rng)
    exact = _inner(vjp(v), u)
    numeric = _inner(v, _numeric_jvp(f, x, u, eps))
    _close(exact, numeric, rtol, atol, f"{label}: <vjp(v), u> vs <v, J u>")


def check_jvp(f, x, rng, eps=1e-6, rtol=1e-5, atol=1e-6, label="fwd"):
    u = _random_like(x, rng)
    _, exact = make_jvp(f)(x)(u)
    _close(exact, _numeric_jvp(f, x, u, eps), rtol, atol, f"{label}: jvp(u) vs J u")


def check_grads(f, *args, modes=("fwd", "rev"), order=2, seed=0, eps=1e-6, rtol=1e-5,
                atol=1e-6):
    """Check forward and/or reverse derivatives of ``f`` at ``args`` up to ``order``.

    Raises ``AssertionError`` naming the mode and order of the first disagreement.
    Called without ``args`` it returns the checker, autograd's way:
    ``check_grads(f, modes=["rev"], order=1)(*args)``.
    """
    if not args:
        return lambda *args: check_grads(f, *args, modes=modes, order=order, seed=seed,
                                         eps=eps, rtol=rtol, atol=atol)
    if isinstance(modes, str):
        modes = (modes,)
    rng = _np.random.default_rng(seed)
    unknown = set(modes) - {"fwd", "rev"}
    if unknown:
        raise ValueError(f"check_grads: unknown modes {sorted(unknown)}; use 'fwd' and/or 'rev'.")
    x = args[0] if len(args) == 1 else tuple(args)
    fun = f if len(args) == 1 else (lambda xs: f(*xs))
    _check(fun, x, modes, order, rng, eps, rtol, atol, depth=1)


def _check(f, x, modes, order, rng, eps, rtol, atol, depth):
    kw = dict(eps=eps, rtol=rtol, atol=atol)
    if "fwd" in modes:
        check_jvp(f, x, rng, label=f"fwd, order {depth}", **kw)
        if order > 1:
            u = _random_like(x, rng)
            _check(lambda xu: make_jvp(f)(xu[0])(xu[1])[1], (x, u), modes, order - 1, rng,
                   eps, rtol, atol, depth + 1)
    if "rev" in modes:
        check_vjp(f, x, rng, label=f"rev, order {depth}", **kw)
        if order > 1:
            v = _random_like(f(x), rng)
            _check(lambda xv: make_vjp(f)(xv[0])[0](xv[1]), (x, v), modes, order - 1, rng,
                   eps, rtol, atol, depth + 1)
