"""dot, matmul (batched, 1-D, broadcasting), outer, inner, vdot, tensordot, einsum; linalg."""

import numpy as onp
import pytest
from engine_conftest import arrays, broadcastable_pair, check, engine_settings, shapes
from hypothesis import given
from hypothesis import strategies as st

dims = st.integers(1, 3)


@st.composite
def matmul_operands(draw):
    """Shapes for x @ y: vectors, matrices, and stacks whose batch shapes broadcast."""
    n, k, m = draw(dims), draw(dims), draw(dims)
    bx, by = draw(broadcastable_pair(max_dims=2))
    x_vec, y_vec = draw(st.booleans()), draw(st.booleans())
    sx = (k,) if x_vec else bx + (n, k)
    sy = (k,) if y_vec else by + (k, m)
    return draw(arrays(sx)), draw(arrays(sy))


@engine_settings
@given(xy=matmul_operands())
def test_matmul(xy):
    x, y = xy
    check(lambda np, x, y: np.matmul(x, y), x, y)
    check(lambda np, x, y: x @ y, x, y)


def test_vector_times_batched_matrix():
    """(k,) @ (b, k, m): the vector is shared by every matrix of the stack."""
    rng = onp.random.default_rng(1)
    check(lambda np, x, y: np.matmul(x, y), rng.normal(size=3), rng.normal(size=(2, 3, 4)))
    check(lambda np, x, y: x @ y, rng.normal(size=3), rng.normal(size=(2, 1, 3, 2)))


@engine_settings
@given(data=st.data())
def test_dot(data):
    n, k, m = data.draw(dims), data.draw(dims), data.draw(dims)
    sx = data.draw(st.sampled_from([(), (k,), (n, k)]))
    sy = data.draw(st.sampled_from([(), (k,), (k, m)]))
    if sx == () and sy == ():
        sy = (m,)
    x, y = data.draw(arrays(sx)), data.draw(arrays(sy))
    check(lambda np, x, y: np.dot(x, y), x, y)


@engine_settings
@given(data=st.data())
def test_outer_inner_vdot(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=2, max_side=3)))
    y = data.draw(arrays(shapes(min_dims=1, max_dims=2, max_side=3)))
    check(lambda np, x, y: np.outer(x, y), x, y)
    k = data.draw(dims)
    a, b = data.draw(arrays((k,))), data.draw(arrays((k,)))
    check(lambda np, a, b: np.inner(a, b), a, b)
    c = data.draw(arrays(x.shape))
    check(lambda np, x, c: np.vdot(x, c), x, c)


def test_inner_of_matrices_contracts_last_axes():
    rng = onp.random.default_rng(2)
    check(lambda np, a, b: np.inner(a, b), rng.normal(size=(2, 3)), rng.normal(size=(4, 3)))


@engine_settings
@given(data=st.data())
def test_tensordot(data):
    a = data.draw(arrays((2, 3, 2)))
    b = data.draw(arrays((3, 2, 2)))
    axes = data.draw(st.sampled_from([0, 1, ((1,), (0,)), ((1, 2), (0, 1)), ((0, 1), (2, 0))]))
    if axes == 1:
        b = b.reshape(2, 3, 2)
    check(lambda np, a, b: np.tensordot(a, b, axes), a, b)


EINSUM = [
    "ij,jk->ik", "ij,jk", "i,i->", "i,i", "i,j->ij", "ij->ji", "ij->", "ij->i", "ijk->kij",
    "bij,bjk->bik", "ij,ij->ij", "ij,j->i", "ij,jk,kl->il", "ba,ac", "iJ,Jk->ik",
    "...ij,...jk->...ik", "...i,...i->...", "i...->...", "ij...,j...->i...",
]


@st.composite
def einsum_operands(draw, spec):
    inputs = spec.split("->")[0].split(",")
    sizes = {c: draw(dims) for c in set(spec) if c.isalpha()}
    batch = draw(broadcastable_pair(max_dims=2)) if "..." in spec else ((), ())
    ops = []
    for j, sub in enumerate(inputs):
        ell = batch[j % 2] if "..." in sub else ()
        pre, _, post = sub.partition("...")
        if "..." in sub:
            shape = tuple(sizes[c] for c in pre) + ell + tuple(sizes[c] for c in post)
        else:
            shape = tuple(sizes[c] for c in sub)
        ops.append(draw(arrays(shape)))
    return ops


@pytest.mark.parametrize("spec", EINSUM)
@engine_settings
@given(data=st.data())
def test_einsum(spec, data):
    ops = data.draw(einsum_operands(spec))
    check(lambda np, *ops: np.einsum(spec, *ops), *ops)


@engine_settings
@given(x=arrays(shapes(min_dims=2, max_dims=2, max_side=3)))
def test_einsum_and_matmul_with_the_same_operand_twice(x):
    check(lambda np, x: np.einsum("ij,ij->", x, x), x)
    check(lambda np, x: np.einsum("ij,kj->ik", x, np.sin(x)), x)
    check(lambda np, x: x @ x.T, x)


# ---- linalg ------------------------------------------------------------------------

@st.composite
def well_conditioned(draw, batch=()):
    n = draw(st.integers(1, 4))
    m = draw(arrays(batch + (n, n), -1, 1))
    return m + 2.0 * n * onp.eye(n)  # diagonally dominant: safely invertible


@engine_settings
@given(data=st.data())
def test_solve(data):
    a = data.draw(well_conditioned())
    n = a.shape[-1]
    b = data.draw(arrays(data.draw(st.sampled_from([(n,), (n, 1), (n, 3)]))))
    check(lambda np, a, b: np.linalg.solve(a, b), a, b, rtol=1e-5, atol=1e-7)


@engine_settings
@given(data=st.data())
def test_solve_batched(data):
    a = data.draw(well_conditioned(batch=(2,)))
    b = data.draw(arrays((2, a.shape[-1], 2)))
    check(lambda np, a, b: np.linalg.solve(a, b), a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("a_batch,b_shape", [
    ((), (2, "n", 2)), ((2,), ("n",)), ((2,), ("n", 2)), ((3, 1), (2, "n", 1)), ((2, 2), ("n",)),
], ids=["matrix-a stacked-b", "stacked-a vector-b", "stacked-a matrix-b", "both broadcast",
        "2-batch-a vector-b"])
@engine_settings
@given(data=st.data())
def test_solve_broadcasting(a_batch, b_shape, data):
    """Each gradient must be summed back over the axes that broadcasting added.

    autograd (written for NumPy 1) reads a stack of solutions for a 1-D b as one matrix
    and gets those gradients wrong, so the reference here is finite differences.
    """
    a = data.draw(well_conditioned(batch=a_batch))
    n = a.shape[-1]
    b = data.draw(arrays(tuple(n if d == "n" else d for d in b_shape)))
    check(lambda np, a, b: np.linalg.solve(a, b), a, b, rtol=1e-5, atol=1e-7,
          autograd_ok=len(b_shape) > 1)


@pytest.mark.parametrize("name", ["inv", "det"])
@engine_settings
@given(data=st.data())
def test_inv_det(name, data):
    a = data.draw(well_conditioned(batch=data.draw(st.sampled_from([(), (2,)]))))
    check(lambda np, a: getattr(np.linalg, name)(a), a, rtol=1e-5, atol=1e-7)


NORMS = [
    (1, {}), (1, {"ord": 2}), (1, {"ord": 1}), (1, {"ord": onp.inf}),
    (2, {}), (2, {"ord": "fro"}), (2, {"axis": 0}), (2, {"axis": -1, "keepdims": True}),
    (2, {"ord": 1, "axis": 1}), (2, {"ord": 2, "axis": 0}), (3, {"axis": 1}),
    (2, {"ord": 1}), (2, {"ord": onp.inf}), (3, {"ord": 1, "axis": (0, 2)}),
    (3, {"ord": onp.inf, "axis": (-1, 0), "keepdims": True}), (3, {"ord": "fro", "axis": (1, 2)}),
]


@pytest.mark.parametrize("ndim,kwargs", NORMS, ids=[f"{n}d-{k}" for n, k in NORMS])
@engine_settings
@given(data=st.data())
def test_norm(ndim, kwargs, data):
    x = data.draw(arrays(shapes(min_dims=ndim, max_dims=ndim, max_side=3), -2, 2,
                         avoid=(0.0, 0.2)))
    if kwargs.get("ord") in (1, onp.inf):  # keep ties out of max |x| and max row/column sum
        x = x + onp.sign(x) * 0.01 * onp.arange(x.size).reshape(x.shape) ** 2
    check(lambda np, x: np.linalg.norm(x, **kwargs), x, rtol=1e-5, atol=1e-7)
