"""Interactive figures for the book, each with a kernel-free fallback.

A widget needs a running kernel; the static HTML book has none.  So every widget in the
book comes with a pre-rendered animation of the same figure over a sweep of one control
(:func:`scrubbable_animation`).  The computation behind a widget is always a plain
function, tested on its own (``tests/test_widget_*.py``); the widget and the animation
only draw it.

One module per widget: ``chain_rule`` (chapter 1), ``convolution`` (chapter 4),
``softmax`` (chapter 5), ``depth`` (chapter 6), ``backward_stepper`` (chapter 7),
``attack`` (chapter 8), ``spectral_radius`` (chapter 10) and ``adjoint`` (chapter 13).
They import matplotlib, IPython and ipywidgets only inside the functions that draw, so
the computations run (and are tested) without them.
"""

from .animation import scrubbable_animation
from .html import html_table

__all__ = ["html_table", "scrubbable_animation"]
