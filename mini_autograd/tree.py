"""Nested lists, tuples and dicts of arrays, flattened to a list of leaves and back.

Differentiating with respect to a container is done leaf by leaf: every leaf gets its
own box (all in the same trace), and the gradient is rebuilt in the same shape.
(Written without recursive closures: a closure that refers to itself is a reference
cycle, which would keep every traced leaf, and the graph behind it, alive until the
garbage collector happens to run.)
"""

import numpy as _np

from . import numpy as mnp
from .tracer import getval


def _flatten_into(node, leaves):
    """Append ``node``'s leaves to ``leaves``; return a description of its structure."""
    if isinstance(node, (list, tuple)):
        return (type(node), [_flatten_into(child, leaves) for child in node])
    if isinstance(node, dict):
        return (dict, [(k, _flatten_into(v, leaves)) for k, v in node.items()])
    leaves.append(node)
    return None


def _rebuild(spec, it):
    if spec is None:
        return next(it)
    kind, children = spec
    if kind is dict:
        return {k: _rebuild(child, it) for k, child in children}
    values = [_rebuild(child, it) for child in children]
    if kind in (list, tuple):
        return kind(values)
    return kind(*values)  # namedtuple


class _Unflatten:
    __slots__ = ("spec",)

    def __init__(self, spec):
        self.spec = spec

    def __call__(self, new_leaves):
        return _rebuild(self.spec, iter(new_leaves))


def tree_flatten(tree):
    """Return ``(leaves, unflatten)`` where ``unflatten(new_leaves)`` rebuilds the structure."""
    leaves = []
    spec = _flatten_into(tree, leaves)
    return leaves, _Unflatten(spec)


def tree_map(fn, tree):
    leaves, unflatten = tree_flatten(tree)
    return unflatten([fn(leaf) for leaf in leaves])


class _Unravel:
    """Turns a flat vector back into the tree it was made from (shapes remembered)."""

    __slots__ = ("shapes", "unflatten")

    def __init__(self, shapes, unflatten):
        self.shapes = shapes
        self.unflatten = unflatten

    def __call__(self, flat):
        pieces, offset = [], 0
        for shape in self.shapes:
            size = int(_np.prod(shape))
            pieces.append(mnp.reshape(flat[offset:offset + size], shape))
            offset += size
        return self.unflatten(pieces)


def ravel_tree(tree):
    """``(flat, unravel)``: every leaf of ``tree`` concatenated into one float vector.

    Both directions are differentiable, so a primitive whose rules want a single array
    (``fixed_point``, ``odeint``) can still be differentiated with respect to a dict or
    tuple of parameters.
    """
    leaves, unflatten = tree_flatten(tree)
    shapes = [tuple(_np.shape(getval(leaf))) for leaf in leaves]
    flat = (mnp.concatenate([mnp.ravel(leaf) for leaf in leaves]) if leaves
            else mnp.zeros(0))
    return flat, _Unravel(shapes, unflatten)
