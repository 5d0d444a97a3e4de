"""Differentiable ``numpy.linalg``: solve, inv, det, slogdet, cholesky, eigh, qr, svd and
pinv with their own rules; norm composed from them and the elementwise ops."""

import numpy as _np

from ..tracer import getval, primitive
from . import ops

_shape = ops._shape


def _solve(a, b):
    return _np.linalg.solve(a, b)


def _solve_vectors(a, v):
    """a^{-1} v for v a stack of vectors (shape a's batch + (n,)), not one matrix."""
    return solve(a, ops.expand_dims(v, -1))[..., 0]


# A 1-D b is one vector, shared by every matrix of a stacked a; then x and its cotangent g
# have shape a's batch + (n,): stacks of vectors, which the rules must not read as matrices.
# Each rule sums its result back over the axes that broadcasting added (unbroadcast).

def _solve_vjp_a(g, ans, a, b):
    # x = A^{-1} b  =>  dL/dA = -(A^{-T} g) x^T : one more solve, with A transposed
    a_t = ops.swapaxes(a, -1, -2)
    if _np.ndim(getval(b)) == 1:
        grad_a = -ops.expand_dims(_solve_vectors(a_t, g), -1) * ops.expand_dims(ans, -2)
    else:
        grad_a = -ops.matmul(solve(a_t, g), ops.swapaxes(ans, -1, -2))
    return ops.unbroadcast(grad_a, _shape(a))


def _solve_vjp_b(g, ans, a, b):
    a_t = ops.swapaxes(a, -1, -2)
    grad_b = _solve_vectors(a_t, g) if _np.ndim(getval(b)) == 1 else solve(a_t, g)
    return ops.unbroadcast(grad_b, _shape(b))


def _solve_jvp_a(t, ans, a, b):
    # dx = -A^{-1} dA x
    if _np.ndim(getval(b)) == 1:
        return -_solve_vectors(a, ops.matmul(t, ops.expand_dims(ans, -1))[..., 0])
    return -solve(a, ops.matmul(t, ans))


solve = primitive(_solve, name="solve",
                  flops=lambda ans, a, b: (2 * _np.shape(a)[-1] ** 3 // 3
                                           + 2 * _np.size(b) * _np.shape(a)[-1]))
solve.defvjp(_solve_vjp_a, _solve_vjp_b)
solve.defjvp(_solve_jvp_a, lambda t, ans, a, b: solve(a, t))

inv = primitive(_np.linalg.inv, name="inv", flops=lambda ans, a: 2 * _np.shape(a)[-1] ** 3)
inv.defvjp(lambda g, ans, a: -ops.matmul(ops.swapaxes(ans, -1, -2),
                                         ops.matmul(g, ops.swapaxes(ans, -1, -2))))
inv.defjvp(lambda t, ans, a: -ops.matmul(ans, ops.matmul(t, ans)))


def _det(a):
    return _np.linalg.det(a)


det = primitive(_det, name="det", flops=lambda ans, a: 2 * _np.shape(a)[-1] ** 3 // 3)
det.defvjp(lambda g, ans, a: ops.expand_dims(ops.expand_dims(g * ans, -1), -1)
           * ops.swapaxes(inv(a), -1, -2))
det.defjvp(lambda t, ans, a: ans * ops.sum(ops.swapaxes(inv(a), -1, -2) * t, axis=(-2, -1)))


# ----------------------------------------------------------------------------------
# Decompositions.  Each is one primitive that returns its factors packed side by side in
# one array (``_pack``), so that a single NumPy call feeds both rules; the public function
# unpacks them with differentiable slicing.  The rules are the standard matrix-calculus
# results, written with differentiable ops so that they can be differentiated again.


def _T(x):
    return ops.swapaxes(x, -1, -2)


def _pack(arrays, batch):
    return _np.concatenate([_np.reshape(a, batch + (-1,)) for a in arrays], axis=-1)


def _unpack(packed, shapes):
    """The factors inside a packed array (traced or not), by slicing and reshaping."""
    batch = _shape(packed)[:-1]
    out, start = [], 0
    for shape in shapes:
        size = int(_np.prod(shape))
        out.append(ops._reshape(packed[..., start:start + size], batch + shape))
        start += size
    return out


def _off_diagonal_inverse_gaps(w):
    """F[..., i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it (w: eigen/singular values)."""
    n = _shape(w)[-1]
    gaps = ops.expand_dims(w, -2) - ops.expand_dims(w, -1)
    return (1.0 - _np.eye(n)) / (gaps + _np.eye(n))


def _symmetric_part_read(t, uplo):
    """The symmetric matrix eigh sees in t: the lower (or upper) triangle, mirrored."""
    if uplo == "L":
        return ops.tril(t) + _T(ops.tril(t, -1))
    return ops.triu(t) + _T(ops.triu(t, 1))


def _eigh(a, UPLO="L"):
    w, v = _np.linalg.eigh(a, UPLO)
    return _pack([w, v], _np.shape(a)[:-2])


def _eigh_factors(ans, a):
    n = _shape(a)[-1]
    return _unpack(ans, [(n,), (n, n)])


def _eigh_vjp(g, ans, a, UPLO="L"):
    w, v = _eigh_factors(ans, a)
    wg, vg = _eigh_factors(g, a)
    inner = ops.expand_dims(wg, -2) * _np.eye(_shape(a)[-1])
    if _np.any(getval(vg)):  # eigenvector part only if used: it is NaN at repeated eigenvalues
        inner = inner + _off_diagonal_inverse_gaps(w) * ops.matmul(_T(v), vg)
    r = ops.matmul(v, ops.matmul(inner, _T(v)))
    # eigh reads one triangle only: the gradient lives on that triangle and the diagonal
    strict = _np.tril(_np.ones(_shape(a)[-2:]), -1) if UPLO == "L" else _np.triu(
        _np.ones(_shape(a)[-2:]), 1)
    return r * _np.eye(_shape(a)[-1]) + (r + _T(r)) * strict


def _eigh_jvp(t, ans, a, UPLO="L"):
    w, v = _eigh_factors(ans, a)
    p = ops.matmul(_T(v), ops.matmul(_symmetric_part_read(t, UPLO), v))  # V^T dA V
    dw = ops.diagonal(p, 0, -2, -1)
    dv = ops.matmul(v, _off_diagonal_inverse_gaps(w) * p)
    return _pack_traced([dw, dv], _shape(a)[:-2])


def _pack_traced(arrays, batch):
    return ops.concatenate([ops._reshape(x, batch + (-1,)) for x in arrays], axis=-1)


_eigh_prim = primitive(_eigh, name="eigh")
_eigh_prim.defvjp(_eigh_vjp)
_eigh_prim.defjvp(_eigh_jvp)


def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, read from its lower
    (UPLO='L') or upper triangle.  The eigenvector derivative divides by the gaps between
    eigenvalues: it assumes distinct eigenvalues (NaN or huge at repeated ones).  A function
    of the eigenvalues alone is fine everywhere."""
    if not isinstance(a, ops.Box):
        return _np.linalg.eigh(a, UPLO)
    return tuple(_eigh_factors(_eigh_prim(a, UPLO), a))


def eigvalsh(a, UPLO="L"):
    return eigh(a, UPLO)[0]


def _cholesky_vjp(g, ans, a):
    # Murray (2016): with Phi = lower triangle, diagonal halved, Abar = L^-T Phi(L^T Lbar) L^-1,
    # symmetrised (the input is a symmetric matrix).
    middle = ops.tril(ops.matmul(_T(ans), g)) * (1.0 - 0.5 * _np.eye(_shape(a)[-1]))
    s = solve(_T(ans), _T(solve(_T(ans), _T(middle))))
    return 0.5 * (s + _T(s))


def _cholesky_jvp(t, ans, a):
    # dL = L Phi(L^-1 dA L^-T)
    inner = solve(ans, _T(solve(ans, _T(t))))
    return ops.matmul(ans, ops.tril(inner) * (1.0 - 0.5 * _np.eye(_shape(a)[-1])))


cholesky = primitive(_np.linalg.cholesky, name="cholesky")
cholesky.defvjp(_cholesky_vjp)
cholesky.defjvp(_cholesky_jvp)
cholesky.__doc__ = ("Lower-triangular L with L L^T = a (a symmetric positive definite). The "
                    "gradient is that of a symmetric input (symmetrised), as autograd's.")


def slogdet(a):
    """(sign, log|det a|); the sign is locally constant, d log|det a| / da = a^-T."""
    if not isinstance(a, ops.Box):
        return _np.linalg.slogdet(a)
    return _np.linalg.slogdet(getval(a))[0], _logabsdet(a)


_logabsdet = primitive(lambda a: _np.linalg.slogdet(a)[1], name="slogdet")
_logabsdet.defvjp(lambda g, ans, a: ops.expand_dims(ops.expand_dims(g, -1), -1) * _T(inv(a)))
_logabsdet.defjvp(lambda t, ans, a: ops.sum(_T(inv(a)) * t, axis=(-2, -1)))


def _qr(a):
    q, r = _np.linalg.qr(a)
    return _pack([q, r], _np.shape(a)[:-2])


def _qr_factors(ans, a):
    m, n = _shape(a)[-2:]
    k = m if m < n else n
    return _unpack(ans, [(m, k), (k, n)])


def _copy_lower_to_upper(x):
    return ops.tril(x) + _T(ops.tril(x, -1))


def _qr_vjp(g, ans, a):
    # m >= n: M = R Rbar^T - Qbar^T Q;  Abar = (Qbar + Q copyltu(M)) R^-T
    q, r = _qr_factors(ans, a)
    qg, rg = _qr_factors(g, a)
    m = ops.matmul(r, _T(rg)) - ops.matmul(_T(qg), q)
    b = qg + ops.matmul(q, _copy_lower_to_upper(m))
    return _T(solve(r, _T(b)))


def _qr_jvp(t, ans, a):
    # C = Q^T dA R^-1 = Omega (antisymmetric) + dR R^-1 (upper triangular)
    q, r = _qr_factors(ans, a)
    dar = _T(solve(_T(r), _T(t)))  # dA R^-1
    c = ops.matmul(_T(q), dar)
    omega = ops.tril(c, -1) - _T(ops.tril(c, -1))
    dr = ops.matmul(c - omega, r)
    dq = dar - ops.matmul(q, c - omega)
    return _pack_traced([dq, dr], _shape(a)[:-2])


_qr_prim = primitive(_qr, name="qr")
_qr_prim.defvjp(_qr_vjp)
_qr_prim.defjvp(_qr_jvp)


def qr(a, mode="reduced"):
    """Reduced QR of a tall or square matrix (m >= n, full column rank)."""
    if not isinstance(a, ops.Box):
        return _np.linalg.qr(a, mode)
    m, n = _shape(a)[-2:]
    if mode != "reduced" or m < n:
        raise NotImplementedError(f"qr(mode={mode!r}) of shape {_shape(a)}: the derivative "
                                  "is implemented for mode='reduced' and m >= n only.")
    return tuple(_qr_factors(_qr_prim(a), a))


def _svd(a):
    u, s, vh = _np.linalg.svd(a, full_matrices=False)
    return _pack([u, s, vh], _np.shape(a)[:-2])


def _svd_factors(ans, a):
    m, n = _shape(a)[-2:]
    k = m if m < n else n
    return _unpack(ans, [(m, k), (k,), (k, n)])


def _svd_vjp(g, ans, a):
    u, s, vh = _svd_factors(ans, a)
    gu, gs, gvh = _svd_factors(g, a)
    v, gv = _T(vh), _T(gvh)
    m, n = _shape(a)[-2:]
    eye = _np.eye(_shape(s)[-1])
    f = _off_diagonal_inverse_gaps(s * s)  # 1 / (s_j^2 - s_i^2)
    utgu = ops.matmul(_T(u), gu)
    vtgv = ops.matmul(_T(v), gv)
    middle = (f * (utgu - _T(utgu))) * ops.expand_dims(s, -2)
    middle = middle + eye * ops.expand_dims(gs, -1)
    middle = middle + ops.expand_dims(s, -1) * (f * (vtgv - _T(vtgv)))
    out = ops.matmul(u, ops.matmul(middle, _T(v)))
    if m < n:
        proj = _np.eye(n) - ops.matmul(v, _T(v))
        out = out + ops.matmul(ops.matmul(u / ops.expand_dims(s, -2), _T(gv)), proj)
    elif m > n:
        proj = _np.eye(m) - ops.matmul(u, _T(u))
        out = out + _T(ops.matmul(ops.matmul(v / ops.expand_dims(s, -2), _T(gu)), proj))
    return out


def _svd_jvp(t, ans, a):
    u, s, vh = _svd_factors(ans, a)
    v = _T(vh)
    m, n = _shape(a)[-2:]
    p = ops.matmul(_T(u), ops.matmul(t, v))  # U^T dA V
    ds = ops.diagonal(p, 0, -2, -1)
    f = _off_diagonal_inverse_gaps(s * s)
    s_row, s_col = ops.expand_dims(s, -2), ops.expand_dims(s, -1)
    du = ops.matmul(u, f * (p * s_row + s_col * _T(p)))
    dv = ops.matmul(v, f * (s_col * p + _T(p) * s_row))
    if m > n:
        du = du + (ops.matmul(t, v) - ops.matmul(u, p)) / s_row  # the part outside span(U)
    elif m < n:
        dv = dv + (ops.matmul(_T(t), u) - ops.matmul(v, _T(p))) / s_row  # outside span(V)
    return _pack_traced([du, ds, _T(dv)], _shape(a)[:-2])


_svd_prim = primitive(_svd, name="svd")
_svd_prim.defvjp(_svd_vjp)
_svd_prim.defjvp(_svd_jvp)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition.  Differentiable with full_matrices=False (or a square
    matrix), and for the singular values alone (compute_uv=False).  The derivative of the
    singular vectors divides by gaps between squared singular values: it assumes distinct,
    non-zero singular values."""
    m, n = _shape(a)[-2:]
    if not isinstance(a, ops.Box):
        return _np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(f"svd of shape {_shape(a)} with full_matrices=True: the extra "
                                  "singular vectors are not unique; use full_matrices=False.")
    u, s, vh = _svd_factors(_svd_prim(a), a)
    return (u, s, vh) if compute_uv else s


def _pinv_vjp(g, ans, a):
    # d(A+) = -A+ dA A+ + A+ A+^T dA^T (I - A A+) + (I - A+ A) dA^T A+^T A+   (constant rank)
    p, pt, gt = ans, _T(ans), _T(g)
    m, n = _shape(a)[-2:]
    left = _np.eye(m) - ops.matmul(a, p)
    right = _np.eye(n) - ops.matmul(p, a)
    return (-ops.matmul(pt, ops.matmul(g, pt)) + ops.matmul(left, ops.matmul(gt, ops.matmul(p, pt)))
            + ops.matmul(pt, ops.matmul(p, ops.matmul(gt, right))))


def _pinv_jvp(t, ans, a):
    p, pt, tt = ans, _T(ans), _T(t)
    m, n = _shape(a)[-2:]
    left = _np.eye(m) - ops.matmul(a, p)
    right = _np.eye(n) - ops.matmul(p, a)
    return (-ops.matmul(p, ops.matmul(t, p)) + ops.matmul(ops.matmul(p, pt), ops.matmul(tt, left))
            + ops.matmul(right, ops.matmul(tt, ops.matmul(pt, p))))


pinv = primitive(lambda a: _np.linalg.pinv(a), name="pinv")
pinv.defvjp(_pinv_vjp)
pinv.defjvp(_pinv_jvp)
pinv.__doc__ = "Moore-Penrose pseudo-inverse; its derivative assumes the rank does not change."


def eig(a):
    if isinstance(a, ops.Box):
        from ..tracer import NoDerivativeError

        raise NoDerivativeError("linalg.eig: eigenvalues of a general real matrix may be complex, "
                                "and mini_autograd differentiates real values only. For a "
                                "symmetric matrix use linalg.eigh.")
    return _np.linalg.eig(a)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector and matrix norms, composed from differentiable ops.

    Vectors: any ord (p-norms, inf, -inf; ord=0 counts non-zeros, a constant).  Matrices
    (2-D, or axis a pair): 'fro', 'nuc', 1, -1, inf, -inf, 2, -2 (the last two and 'nuc'
    through the singular values).  The derivative of a norm is undefined where it has a
    kink (x = 0 for the 2-norm: NaN there, as in autograd).
    """
    x = ops._prepare(x)
    ndim = _np.ndim(getval(x))
    axis = ops._axis(axis)
    if isinstance(axis, tuple) and len(axis) == 1:
        axis = axis[0]
    if axis is None and ord is None:
        return _fit_keepdims(ops.sqrt(ops.sum(x * x)), ndim, keepdims)
    if isinstance(axis, int) or axis is None and ndim == 1:
        return _vector_norm(x, ord, axis, keepdims)
    rows, cols = axis if axis is not None else (-2, -1)
    if ndim < 2 or rows % ndim == cols % ndim:
        raise ValueError(f"norm: axis={axis!r} does not name two axes of an array of shape "
                         f"{_shape(x)}.")
    out = _matrix_norm(ops.moveaxis(x, (rows, cols), (-2, -1)), ord)
    if keepdims:
        for a in sorted((rows % ndim, cols % ndim)):
            out = ops.expand_dims(out, a)
    return out


def _fit_keepdims(out, ndim, keepdims):
    return ops._reshape(out, (1,) * ndim) if keepdims else out


def _vector_norm(x, ord, axis, keepdims):
    ax = -1 if axis is None else axis
    if ord is None or ord == 2:
        return ops.sqrt(ops.sum(x * x, axis=ax, keepdims=keepdims))
    if ord == _np.inf:
        return ops.max(ops.absolute(x), axis=ax, keepdims=keepdims)
    if ord == -_np.inf:
        return ops.min(ops.absolute(x), axis=ax, keepdims=keepdims)
    if ord == 0:
        return _np.sum(getval(x) != 0, axis=ax, keepdims=keepdims).astype(float)
    if ord == 1:
        return ops.sum(ops.absolute(x), axis=ax, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; give a 2-D array or two axes.")
    return ops.sum(ops.absolute(x) ** ord, axis=ax, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord):
    """Norm over the last two axes."""
    if ord in (None, "fro"):
        return ops.sqrt(ops.sum(x * x, axis=(-2, -1)))
    if ord in (1, -1, _np.inf, -_np.inf):
        # largest/smallest column sum (ord=+-1) or row sum (ord=+-inf) of |x|
        sums = ops.sum(ops.absolute(x), axis=-2 if ord in (1, -1) else -1)
        return ops.max(sums, axis=-1) if ord > 0 else ops.min(sums, axis=-1)
    if ord in (2, -2, "nuc"):
        s = svd(x, compute_uv=False)
        if ord == "nuc":
            return ops.sum(s, axis=-1)
        return ops.max(s, axis=-1) if ord == 2 else ops.min(s, axis=-1)
    raise ValueError(f"norm: ord={ord!r} is not a matrix norm; use 'fro', 'nuc', 1, -1, 2, -2, "
                     "inf or -inf.")


def __getattr__(name):
    from ._fallback import guarded

    return guarded(_np.linalg, name, "mini_autograd.numpy.linalg")
