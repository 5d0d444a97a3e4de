"""Fixed points with a gradient from the implicit function theorem.

Suppose ``x* = f(a, x*)``: the solution of an iteration, not an expression.  Running
reverse mode through every iteration would work but costs memory proportional to the
number of iterations and differentiates the *path* to the answer, which is irrelevant.
Differentiating the equation ``x* = f(a, x*)`` instead gives

    dx*/da = (I - df/dx)^{-1} df/da,

so a cotangent ``g`` on ``x*`` becomes ``v^T df/da`` where ``v`` solves the *adjoint
fixed point* ``v = g + v^T df/dx``.  That is another fixed-point iteration, run with the
same solver and VJPs of ``f`` at the solution only.  Memory is constant in the number of
iterations, and since the adjoint is itself solved by ``fixed_point``, the rule can be
differentiated again.

``fixed_point`` is a `primitive` with hand-written rules: this is the documented way
to give any function its own VJP and JVP (see the README's "Custom rules" section).
"""

import numpy as _np

from .core import make_jvp, make_vjp
from .tracer import getval, primitive
from .tree import ravel_tree


def _solve_fixed_point(f, a, x0, distance, tol, max_iter):
    step = f(a)
    x = x0
    for _ in range(max_iter):
        x_next = step(x)
        if distance(x, x_next) < tol:
            return x_next
        x = x_next
    raise RuntimeError(
        f"fixed_point did not converge in {max_iter} iterations (last distance "
        f"{float(getval(distance(x, step(x)))):.3g} > tol={tol}). The map may not be a "
        "contraction here; try another starting point, a damped update, or a larger max_iter."
    )


def fixed_point(f, a, x0, distance, tol, max_iter=10_000):
    """Iterate ``x <- f(a)(x)`` from ``x0`` until ``distance(x, x_next) < tol``.

    Same signature as ``autograd.misc.fixed_points.fixed_point``. Differentiable with
    respect to ``a`` -- an array, or a list/tuple/dict of arrays -- and not ``x0`` (the
    fixed point does not depend on where you start).
    """
    from .ode import _refuse_traced_closure

    _refuse_traced_closure(f(_plain(a))(getval(x0)), "fixed_point", "f(a)(x)", "a")
    if isinstance(a, (list, tuple, dict)):
        # The primitive sees one flat parameter vector, so its implicit rule (not a trace
        # through every iteration) handles containers too.
        flat, unravel = ravel_tree(a)
        return _fixed_point(_Reparametrized(f, unravel), flat, x0, distance, tol, max_iter)
    return _fixed_point(f, a, x0, distance, tol, max_iter)


def _plain(a):
    from .tree import tree_map

    return tree_map(getval, a)


class _Reparametrized:
    """``f`` taking the flat parameter vector instead of the container."""

    def __init__(self, f, unravel):
        self.f, self.unravel = f, unravel

    def __call__(self, flat):
        return self.f(self.unravel(flat))


@primitive(name="fixed_point")
def _fixed_point(f, a, x0, distance, tol, max_iter=10_000):
    return _solve_fixed_point(f, a, x0, distance, tol, max_iter)


def _fixed_point_vjp(g, x_star, f, a, x0, distance, tol, max_iter=10_000):
    vjp_x, _ = make_vjp(lambda x: f(a)(x))(x_star)
    vjp_a, _ = make_vjp(lambda a: f(a)(x_star))(a)
    # adjoint fixed point v = g + v^T df/dx, solved by the same machinery
    v = _fixed_point(lambda g_: lambda v: g_ + vjp_x(v), g, _np.zeros_like(getval(x_star)),
                     distance, tol, max_iter)
    return vjp_a(v)


def _fixed_point_jvp(t, x_star, f, a, x0, distance, tol, max_iter=10_000):
    _, da_term = make_jvp(lambda a: f(a)(x_star))(a)(t)
    jvp_x = make_jvp(lambda x: f(a)(x))(x_star)
    # tangent u = df/dx u + df/da t, again a fixed point
    return _fixed_point(lambda c: lambda u: c + jvp_x(u)[1], da_term,
                        _np.zeros_like(getval(x_star)), distance, tol, max_iter)


_fixed_point.defvjp(None, _fixed_point_vjp)
_fixed_point.defjvp(None, _fixed_point_jvp)
