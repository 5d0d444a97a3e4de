"""One way to compare two gradients, used by every chapter.

A chapter computes a gradient with ``mini_autograd`` and asserts that it equals the
same gradient from an independent source: HIPS ``autograd``, a hand-derived formula, or
central differences.  ``assert_same`` is that assertion.  It compares containers too
(the gradient of a dict of parameters is a dict), and when it fails it says which entry
differs and by how much, so a wrong rule is found from the message alone.

The tolerance.  Two exact methods differ only by rounding, which grows with the size of
the numbers being added, not with the size of the result: an entry that is the small
difference of large terms carries the rounding of the large terms.  So by default an
array's entries are compared relative to the array's largest entry
(``atol = rtol * max|theirs|``), not each relative to itself.  Pass ``atol`` to compare
with a fixed absolute tolerance instead (``atol=0`` makes the check purely relative).

Every passed comparison is counted in ``CHECKS``, so a chapter can print at its end how
many gradients it checked.
"""

import numpy as onp

__all__ = ["CHECKS", "CheckCounter", "assert_same", "leaves"]


class CheckCounter:
    """The number of comparisons that passed since the kernel started (or ``reset``)."""

    def __init__(self):
        self.count = 0

    def add(self):
        self.count += 1

    def reset(self):
        self.count = 0

    def __repr__(self):
        return f"CheckCounter(count={self.count})"


CHECKS = CheckCounter()


def _flatten(tree, path=""):
    """[(path, leaf)] of a nest of dicts, lists and tuples; dict keys in sorted order."""
    if isinstance(tree, dict):
        return [item for key in sorted(tree, key=repr)
                for item in _flatten(tree[key], f"{path}[{key!r}]")]
    if isinstance(tree, (list, tuple)):
        return [item for i, sub in enumerate(tree) for item in _flatten(sub, f"{path}[{i}]")]
    return [(path, tree)]


def leaves(tree):
    """The arrays of a nest of dicts, lists and tuples, as float arrays, in a fixed order
    (dict entries sorted by key, so two dicts with the same keys line up)."""
    return [onp.asarray(leaf, dtype=float) for _, leaf in _flatten(tree)]


def assert_same(ours, theirs, rtol=1e-9, atol=None, what="gradient"):
    """Raise AssertionError unless ``ours`` equals ``theirs`` up to rounding.

    ``ours`` and ``theirs`` are numbers, arrays, or the same nest of dicts, lists and
    tuples of them (lists and tuples are interchangeable).  Entry by entry,
    ``|ours - theirs| <= atol + rtol * |theirs|`` must hold, where ``atol`` defaults to
    ``rtol`` times the largest ``|theirs|`` of that array (see the module docstring).
    Equal infinities and NaN against NaN count as equal.  ``what`` names the compared
    quantity in the error message.  A passed comparison adds one to ``CHECKS``.
    """
    ours_flat, theirs_flat = _flatten(ours), _flatten(theirs)
    ours_paths = [p for p, _ in ours_flat]
    theirs_paths = [p for p, _ in theirs_flat]
    if ours_paths != theirs_paths:
        raise AssertionError(
            f"assert_same: the two {what}s have different structures: "
            f"{len(ours_paths)} arrays at {ours_paths[:6]} against "
            f"{len(theirs_paths)} at {theirs_paths[:6]}")
    for path, a, b in zip(ours_paths, (leaf for _, leaf in ours_flat),
                          (leaf for _, leaf in theirs_flat)):
        a, b = onp.asarray(a, dtype=float), onp.asarray(b, dtype=float)
        where = f"{what}{path}" if path else what
        if a.shape != b.shape:
            raise AssertionError(f"assert_same: {where} has shape {a.shape}, "
                                 f"expected {b.shape}")
        scale = float(onp.max(onp.abs(b[onp.isfinite(b)]), initial=0.0))
        tol = rtol * scale if atol is None else atol
        with onp.errstate(invalid="ignore", over="ignore"):
            close = onp.isfinite(a) & onp.isfinite(b) & (onp.abs(a - b) <= tol + rtol * onp.abs(b))
            ok = (a == b) | close | (onp.isnan(a) & onp.isnan(b))
        if not ok.all():
            raise AssertionError(_difference_report(where, a, b, ok, rtol, tol))
    CHECKS.add()


def _difference_report(where, a, b, ok, rtol, tol):
    with onp.errstate(invalid="ignore", over="ignore"):
        error = onp.where(ok, 0.0, onp.abs(a - b))
    error = onp.where(onp.isnan(error), onp.inf, error)
    worst = onp.unravel_index(onp.argmax(error), a.shape) if a.ndim else ()
    index = f" at index {tuple(int(i) for i in worst)}" if a.ndim else ""
    return (f"assert_same: {where} differs in {int((~ok).sum())} of {a.size} entries; "
            f"largest difference {float(error[worst]):.3g}{index} "
            f"(ours {float(a[worst]):.10g}, theirs {float(b[worst]):.10g}); "
            f"allowed {tol:.3g} + {rtol:.1g} * |theirs|")
