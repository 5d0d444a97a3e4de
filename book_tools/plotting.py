"""Matplotlib settings shared by every chapter: figures readable in light and dark themes.

Figures get an opaque white background (so dark-theme pages show dark ink on white
rather than dark ink on a dark page) and a fixed size and resolution, so a notebook
re-executed on another machine stores the same pictures.
"""

BOOK_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def use_book_style():
    """Apply the book's matplotlib defaults (call once at the top of a chapter)."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "figure.figsize": (6.4, 3.6),
        "figure.dpi": 90,
        "savefig.dpi": 90,
        "font.size": 10,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": mpl.cycler(color=BOOK_COLORS),
        "animation.embed_limit": 8.0,  # MB; fallback animations stay far below this
        "svg.hashsalt": "mini-autograd",  # deterministic SVG ids
    })
    try:  # inline backend: PNGs without run-dependent metadata
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except ImportError:  # pragma: no cover - outside IPython
        pass
