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

Forward mode solves the *forward sensitivity* equation ``du/dt = df/dy u + df/dargs w``
alongside ``y``.  Both rules solve their ODE with ``odeint`` itself and are written with
``mini_autograd.numpy``, so they can be differentiated again (second derivatives run an
adjoint of the adjoint, as autograd's do).

Failing fast: the times must be finite; a state or right-hand side that becomes NaN or
infinite stops the solve at once, and dopri5 stops after ``max_steps`` steps per output
interval or when its step size collapses (a stiff or blowing-up problem), saying the time
reached, the step size and the size of the state.
"""

import numpy as _np

from . import numpy as np
from .core import make_jvp, make_vjp
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


class ODESolverError(RuntimeError):
    """odeint stopped: non-finite values, too many steps, or a collapsed step size."""


def _stop(why, t, h, y, advice):
    raise ODESolverError(f"odeint: {why} at t={t:.6g} (step size {h:.3g}, |y|="
                         f"{_np.linalg.norm(y):.3g}). {advice}")


_NON_FINITE = ("Check func for overflow or invalid operations (log or sqrt of a negative "
               "number, division by zero), or integrate over a shorter time.")


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
        if not _np.all(_np.isfinite(y)):
            _stop("the state became NaN or infinite", t, abs(h), y, _NON_FINITE)
    return y


def _dopri5_interval(f, y, t0, t1, rtol, atol, max_steps):
    span = t1 - t0
    if span == 0:
        return y
    direction = _np.sign(span)
    h = 0.01 * abs(span)
    t = t0
    k1 = f(y, t)
    if not _np.all(_np.isfinite(k1)):
        _stop("func returned NaN or infinity", t, h, y, _NON_FINITE)
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
        elif not _np.isfinite(err):
            err = 1e10  # a trial point left func's domain: shrink hard and retry
        h = h * min(5.0, max(0.2, 0.9 * (err + 1e-16) ** -0.2))
        if h < 1e-12 * abs(span):
            _stop("the step size collapsed", t, h, y,
                  "The solution may blow up (become infinite) near this time, or func may "
                  "be NaN or discontinuous here. " + _NON_FINITE)
    _stop(f"took max_steps={max_steps} steps between t={t0:.6g} and t={t1:.6g} and stopped",
          t, h, y, "The step size stays small, as for a stiff problem: use method='rk4' with "
          "enough steps, rescale the problem, or raise max_steps.")


def _solve(f, y0, t, method, steps, rtol, atol, max_steps=10_000):
    ys = [y0]
    y = y0
    for t0, t1 in zip(t[:-1], t[1:]):
        if method == "rk4":
            y = _rk4_interval(f, y, t0, t1, steps)
        else:
            y = _dopri5_interval(f, y, t0, t1, rtol, atol, max_steps)
        ys.append(y)
    return _np.stack(ys)


@primitive(name="odeint")
def _odeint(func, y0, t, flat_args, unflatten, method, steps, rtol, atol, max_steps):
    args = unflatten(flat_args)
    return _solve(lambda y, s: func(y, s, *args), _np.asarray(y0, dtype=float),
                  _np.asarray(t, dtype=float), method, steps, rtol, atol, max_steps)


def odeint(func, y0, t, args=(), method="dopri5", steps=20, rtol=1e-8, atol=1e-10,
           max_steps=10_000):
    """Solve dy/dt = func(y, t, *args) and return y at each time in ``t`` (first axis).

    Differentiable with respect to ``y0``, ``t`` and ``args`` (arrays, or
    lists/tuples/dicts of them), in reverse mode by the adjoint method and in forward mode
    by forward sensitivities, to any order.  ``method="rk4"`` takes ``steps`` fixed steps
    between consecutive output times; ``"dopri5"`` adapts its steps to ``rtol``/``atol``
    and gives up after ``max_steps`` steps between two output times.  Parameters must
    reach ``func`` through ``args``: a ``func`` that closes over a value being
    differentiated is refused with an error, since the rules could not see it.
    """
    if method not in ("rk4", "dopri5"):
        raise ValueError(f"odeint: unknown method {method!r}; use 'rk4' or 'dopri5'.")
    t_values = _np.asarray(getval(t), dtype=float)
    if t_values.ndim != 1 or not _np.all(_np.isfinite(t_values)):
        raise ValueError(f"odeint: t must be a 1-D array of finite times, not {t_values!r}. "
                         "To integrate towards a steady state, pick a finite end time (and "
                         "check that y has stopped changing), or use implicit.fixed_point.")
    flat, unravel = ravel_tree(tuple(args))
    _refuse_traced_closure(func(getval(y0), t_values[0], *unravel(getval(flat))),
                           "odeint", "func(y, t, *args)", "args")
    return _odeint(func, y0, t, flat, unravel, method, steps, rtol, atol, max_steps)


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


class _Split:
    """Unflattens one flat vector into the pieces ``_solve_again`` joined."""

    def __init__(self, sizes):
        self.bounds = _np.cumsum([0] + list(sizes))

    def __call__(self, flat):
        return tuple(flat[lo:hi] for lo, hi in zip(self.bounds[:-1], self.bounds[1:]))


def _solve_again(dynamics, y0, t, params, solver):
    """odeint inside a rule: the same differentiable primitive, without odeint's checks of
    the user's input (the dynamics are our own, and a probe call would cost an evaluation)."""
    flat = np.concatenate([np.reshape(p, (-1,)) for p in params])
    split = _Split([_np.size(getval(p)) for p in params])
    return _odeint(dynamics, y0, t, flat, split, solver["method"], solver["steps"],
                   solver["rtol"], solver["atol"], solver["max_steps"])


class _Flat:
    """``func`` on flat vectors: (y, t, p) -> dy/dt, all 1-D."""

    def __init__(self, func, shape, unflatten):
        self.func, self.shape, self.unflatten = func, shape, unflatten

    def __call__(self, y, s, p):
        return np.reshape(self.func(np.reshape(y, self.shape), s, *self.unflatten(p)), (-1,))


class _Adjoint:
    """The augmented backward dynamics of [y, a, a_t, a_p], with the parameters in args."""

    def __init__(self, f_flat, size):
        self.f, self.size = f_flat, size

    def __call__(self, state, s, p):
        y, a = state[:self.size], state[self.size:2 * self.size]
        vjp, dy = make_vjp(self.f, argnum=(0, 1, 2))(y, s, p)
        a_y, a_t, a_p = vjp(-a)
        return np.concatenate([dy, a_y, np.reshape(a_t, (1,)), np.reshape(a_p, (-1,))])


def _odeint_vjp_parts(g, ys, func, y0, t, flat_args, unflatten, method, steps, rtol, atol,
                      max_steps):
    """Run the adjoint backward once; return (dL/dy0, dL/dt, dL/dflat_args).

    Written with mini_autograd.numpy and odeint itself, so it can be differentiated again.
    """
    shape = _np.shape(getval(ys))[1:]
    size = int(_np.prod(shape))
    f_flat = _Flat(func, shape, unflatten)
    adjoint = _Adjoint(f_flat, size)
    solver = dict(method=method, steps=steps, rtol=rtol, atol=atol, max_steps=max_steps)
    g = np.reshape(g, (len(getval(t)), size))
    ys_flat = np.reshape(ys, (len(getval(t)), size))
    a = g[-1]
    a_t0 = 0.0
    a_p = np.zeros_like(getval(flat_args)) * 0.0
    t_grads = [None] * len(getval(t))
    for i in range(len(getval(t)) - 1, 0, -1):
        t_grads[i] = np.dot(f_flat(ys_flat[i], t[i], flat_args), g[i])
        a_t0 = a_t0 - t_grads[i]
        state = np.concatenate([ys_flat[i], a, np.reshape(a_t0, (1,)), np.reshape(a_p, (-1,))])
        state = _solve_again(adjoint, state, np.stack([t[i], t[i - 1]]), [flat_args], solver)[1]
        a = state[size:2 * size] + g[i - 1]
        a_t0 = state[2 * size]
        a_p = state[2 * size + 1:]
    t_grads[0] = a_t0
    return np.reshape(a, shape), np.stack(t_grads), a_p


def _odeint_vjp(argnum):
    def rule(g, ys, func, y0, t, flat_args, unflatten, method, steps, rtol, atol, max_steps):
        parts = _odeint_vjp_parts(g, ys, func, y0, t, flat_args, unflatten, method, steps,
                                  rtol, atol, max_steps)
        return parts[{1: 0, 2: 1, 3: 2}[argnum]]

    return rule


class _Sensitivity:
    """Forward sensitivity dynamics of [y, u]: du/dt = df/dy u + df/dp w (p, w in args)."""

    def __init__(self, f_flat, size):
        self.f, self.size = f_flat, size

    def __call__(self, state, s, p, w):
        y, u = state[:self.size], state[self.size:]
        dy, du = make_jvp(lambda y_, p_: self.f(y_, s, p_), argnum=(0, 1))(y, p)((u, w))
        return np.concatenate([dy, du])


def _odeint_jvp(argnum):
    """Tangent of the solution for a tangent of y0 (1), t (2) or the parameters (3)."""

    def rule(tangent, ys, func, y0, t, flat_args, unflatten, method, steps, rtol, atol,
             max_steps):
        shape = _np.shape(getval(ys))[1:]
        size = int(_np.prod(shape))
        n = len(getval(t))
        f_flat = _Flat(func, shape, unflatten)
        y0_flat = np.reshape(y0, (size,)) * 1.0
        w = tangent if argnum == 3 else np.zeros_like(getval(flat_args)) * 0.0
        if argnum == 1:
            u0 = np.reshape(tangent, (size,))
        elif argnum == 2:  # moving t0 shifts the start: u(t0) = -f(y0, t0) dt0
            u0 = -f_flat(y0_flat, t[0], flat_args) * tangent[0]
        else:
            u0 = np.zeros(size)
        solver = dict(method=method, steps=steps, rtol=rtol, atol=atol, max_steps=max_steps)
        states = _solve_again(_Sensitivity(f_flat, size), np.concatenate([y0_flat, u0]), t,
                              [flat_args, w], solver)
        u = states[:, size:]
        if argnum == 2:  # moving t_i reads y at another time: + f(y_i, t_i) dt_i
            ys_flat = np.reshape(ys, (n, size))
            u = u + np.stack([f_flat(ys_flat[i], t[i], flat_args) * tangent[i]
                              for i in range(n)])
        return np.reshape(u, (n,) + shape)

    return rule


_odeint.defvjp(None, _odeint_vjp(1), _odeint_vjp(2), _odeint_vjp(3))
_odeint.defjvp(None, _odeint_jvp(1), _odeint_jvp(2), _odeint_jvp(3))
