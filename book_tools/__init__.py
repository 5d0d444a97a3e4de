"""What serves the book, not the engine: the helpers every chapter imports.

``mini_autograd`` is the engine and imports only NumPy (and SciPy).  This package holds
the rest, and may import autograd, matplotlib, IPython and ipywidgets:

- ``checking``: ``assert_same`` (the one comparison of two gradients), ``leaves``, and
  ``CHECKS``, the count of passed comparisons a chapter prints at its end;
- ``referee``: ``grad_both`` and ``jacobian_both`` (one function through mini_autograd
  and autograd, asserted equal) and ``nn_for`` (the engine's layers on any NumPy);
- ``finite_differences``: ``central_differences``, a gradient with no rules at all;
- ``optimizers``: ``adam``;
- ``timing``: ``best_time``;
- ``display``: ``print_value`` (a named array) and ``show`` (a compact figure);
- ``plotting``: ``use_book_style`` and ``BOOK_COLORS``;
- ``widgets``: the interactive figures, each with a kernel-free fallback.

The names below are importable from ``book_tools`` directly; matplotlib, IPython and
ipywidgets load only when something is drawn.
"""

from .checking import CHECKS, assert_same, leaves
from .display import print_value, show
from .finite_differences import central_differences
from .optimizers import adam
from .plotting import BOOK_COLORS, use_book_style
from .referee import grad_both, jacobian_both, nn_for
from .timing import best_time

__all__ = [
           "BOOK_COLORS",
           "CHECKS",
           "adam",
           "assert_same",
           "best_time",
           "central_differences",
           "grad_both",
           "jacobian_both",
           "leaves",
           "nn_for",
           "print_value",
           "show",
           "use_book_style",
]
