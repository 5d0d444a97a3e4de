"""``odeint`` with a gradient from the continuous adjoint (sensitivity) equations.

Forward: solve ``dy/dt = func(y, t, *args)`` and report ``y`` at the times ``t``, with
fixed-step classical Runge-Kutta (``method="rk4"``) or adaptive Dormand-Prince 5(4)
(``method="dopri5"``).

Backward: reverse mode through every solver step would store every step.  Instead the
*adjoint state* ``a(t) = dL/dy(t)`` obeys its own ODE, ``da/dt = -a^T df/dy``, which is
solved backward in time from the last output to the first, together with ``y`` itself
(recomputed backward, not stored) and the running parameter gradient
``dL/dargs = -integral a^T df/dargs dt``.  The right-hand side of this augmented system
needs only VJPs of ``func`` at one state at a time, so memory does not grow with the
number of solver steps: that is the adjoint sensitivity method of Pontryagin et al.,
as used for neural ODEs by Chen et al. (2018).  The price is that the backward solution
of ``y`` is recomputed, so the gradient is accurate to the solver's tolerance, not to
machine precision.
"""

import numpy as _np

from .core import make_vjp
from .tracer import Box, getval, primitive
from .tree import ravel_tree

# Dormand-Prince 5(4) tableau
_C = _np.array([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1])
_A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
]
_B5 = _np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0])
_B4 = _np.array([5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40])


def _rk4_interval(f, y, t0, t1, steps):
    h = (t1 - t0) / steps
    t = t0
    for _ in range(steps):
        k1 = f(y, t)
        k2 = f(y + 0.5 * h * k1, t + 0.5 * h)
        k3 = f(y + 0.5 * h * k2, t + 0.5 * h)
        k4 = f(y + h * k3, t + h)
        y = y + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        t = t + h
    return y


def _dopri5_interval(f, y, t0, t1, rtol, atol, max_steps=100_000):
    span = t1 - t0
    if span == 0:
        return y
    direction = _np.sign(span)
    h = 0.01 * abs(span)
    t = t0
    k1 = f(y, t)
    for _ in range(max_steps):
        if abs(t1 - t) <= 1e-14 * max(abs(t1), 1.0):
            return y
        h = min(h, abs(t1 - t))
        step = direction * h
        ks = [k1]
        for i in range(1, 7):
            yi = y + step * sum(a * k for a, k in zip(_A[i], ks))
            ks.append(f(yi, t + _C[i] * step))
        y5 = y + step * sum(b * k for b, k in zip(_B5, ks))
        y4 = y + step * sum(b * k for b, k in zip(_B4, ks))
        scale = atol + rtol * _np.maximum(_np.abs(y), _np.abs(y5))
        err = _np.sqrt(_np.mean(((y5 - y4) / scale) ** 2))
        if err <= 1.0:
            t, y = t + step, y5
            k1 = ks[6]  # first-same-as-last: the last stage is f at the new point
        h = h * min(5.0, max(0.2, 0.9 * (err + 1e-16) ** -0.2))
    raise RuntimeError(f"odeint (dopri5): more than {max_steps} steps between t={t0} and "
                       f"t={t1}; the problem may be stiff. Loosen rtol/atol or use rk4.")


def _solve(f, y0, t, method, steps, rtol, atol):
    ys = [y0]
    y = y0
    for t0, t1 in zip(t[:-1], t[1:]):
        if method == "rk4":
            y = _rk4_interval(f, y, t0, t1, steps)
        elif method == "dopri5":
            y = _dopri5_interval(f, y, t0, t1, rtol, atol)
        else:
            raise ValueError(f"odeint: unknown method {method!r}; use 'rk4' or 'dopri5'.")
        ys.append(y)
    return _np.stack(ys)


@primitive(name="odeint")
def _odeint(func, y0, t, flat_args, unflatten, method, steps, rtol, atol):
    args = unflatten(flat_args)
    return _solve(lambda y, s: func(y, s, *args), _np.asarray(y0, dtype=float),
                  _np.asarray(t, dtype=float), method, steps, rtol, atol)


def odeint(func, y0, t, args=(), method="dopri5", steps=20, rtol=1e-8, atol=1e-10):
    """Solve dy/dt = func(y, t, *args) and return y at each time in ``t`` (first axis).

    Differentiable with respect to ``y0`` and ``args`` (arrays, or lists/tuples/dicts of
    them) by the adjoint method.  ``method="rk4"`` takes ``steps`` fixed steps between
    consecutive output times; ``"dopri5"`` adapts its steps to ``rtol``/``atol``.
    Parameters must reach ``func`` through ``args``: a ``func`` that closes over a
    value being differentiated is refused with an error, since the adjoint rule could
    not see it.
    """
    flat, unravel = ravel_tree(tuple(args))
    _refuse_traced_closure(func(getval(y0), getval(t)[0] if _np.ndim(getval(t)) else getval(t),
                                *unravel(getval(flat))), "odeint", "func(y, t, *args)", "args")
    return _odeint(func, y0, t, flat, unravel, method, steps, rtol, atol)


def _refuse_traced_closure(probe, name, what, where):
    """Raise if ``probe`` is traced although every input to it was made plain.

    Then the function closes over a value being differentiated; the primitive's
    adjoint rule would never see it, and the solver would be recorded step by step
    (a right gradient, but memory growing with the number of steps).
    """
    from .tree import tree_flatten

    leaves, _ = tree_flatten(probe)
    if any(isinstance(leaf, Box) for leaf in leaves):
        raise ValueError(
            f"{name}: {what} depends on a value being differentiated that is not passed "
            f"through {where} (a closure?). Pass every such parameter through {where}, so "
            f"that {name}'s adjoint rule handles it."
        )


def _odeint_vjp_parts(g, ys, func, y0, t, flat_args, unflatten, method, steps, rtol, atol):
    """Run the adjoint backward once; return (dL/dy0, dL/dt, dL/dflat_args)."""
    ys, t, flat_args = getval(ys), _np.asarray(getval(t), dtype=float), getval(flat_args)
    g = _np.asarray(getval(g), dtype=float)
    shape = _np.shape(ys)[1:]
    D = int(_np.prod(shape))
    P = _np.size(flat_args)

    def f_flat(y, s, p):
        return _np.reshape(func(_np.reshape(y, shape), s, *unflatten(p)), (-1,))

    def augmented(state, s):
        y, a = state[:D], state[D:2 * D]
        vjp, dy = make_vjp(f_flat, argnum=(0, 1, 2))(y, s, flat_args)
        a_y, a_t, a_p = vjp(-a)
        return _np.concatenate([getval(dy), getval(a_y), _np.atleast_1d(getval(a_t)),
                                _np.reshape(getval(a_p), (-1,))])

    a = g[-1].reshape(-1)
    a_t0 = 0.0
    a_p = _np.zeros(P)
    t_grads = _np.zeros(len(t))
    for i in range(len(t) - 1, 0, -1):
        f_i = _np.reshape(func(ys[i], t[i], *unflatten(flat_args)), (-1,))
        t_grads[i] = _np.dot(f_i, g[i].reshape(-1))
        a_t0 = a_t0 - t_grads[i]
        state = _np.concatenate([ys[i].reshape(-1), a, [a_t0], a_p])
        state = _solve(augmented, state, _np.array([t[i], t[i - 1]]), method, steps, rtol, atol)[1]
        a = state[D:2 * D] + g[i - 1].reshape(-1)
        a_t0 = state[2 * D]
        a_p = state[2 * D + 1:]
    t_grads[0] = a_t0
    return a.reshape(shape), t_grads, a_p


def _odeint_vjp(argnum):
    def rule(g, ys, func, y0, t, flat_args, unflatten, method, steps, rtol, atol):
        parts = _odeint_vjp_parts(g, ys, func, y0, t, flat_args, unflatten, method, steps,
                                  rtol, atol)
        return parts[{1: 0, 2: 1, 3: 2}[argnum]]

    return rule


_odeint.defvjp(None, _odeint_vjp(1), _odeint_vjp(2), _odeint_vjp(3))
