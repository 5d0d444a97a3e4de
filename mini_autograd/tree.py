"""Nested lists, tuples and dicts of arrays, flattened to a list of leaves and back.

Differentiating with respect to a container is done leaf by leaf: every leaf gets its
own box (all in the same trace), and the gradient is rebuilt in the same shape.
"""


def tree_flatten(tree):
    """Return ``(leaves, unflatten)`` where ``unflatten(new_leaves)`` rebuilds the structure."""
    leaves = []

    def build(node):
        if isinstance(node, (list, tuple)):
            makers = [build(child) for child in node]
            kind = type(node)
            if kind in (list, tuple):
                return lambda it: kind(m(it) for m in makers)
            return lambda it: kind(*(m(it) for m in makers))  # namedtuple
        if isinstance(node, dict):
            keys = list(node)
            makers = [build(node[k]) for k in keys]
            return lambda it: {k: m(it) for k, m in zip(keys, makers)}
        leaves.append(node)
        return lambda it: next(it)

    maker = build(tree)

    def unflatten(new_leaves):
        return maker(iter(new_leaves))

    return leaves, unflatten


def tree_map(fn, tree):
    leaves, unflatten = tree_flatten(tree)
    return unflatten([fn(leaf) for leaf in leaves])
