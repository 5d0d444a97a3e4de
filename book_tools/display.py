"""Showing values and figures in a chapter.

``print_value`` prints a named array in one aligned line (or a few, for a matrix).
``show`` displays a matplotlib figure as a PNG reduced to a 128-colour palette: it looks
the same, takes about a third of the bytes, and keeps the stored notebook and the web
book small (chapters with many figures use it instead of ``plt.show()``).
"""

import io

import numpy as onp

__all__ = ["print_value", "show"]

NAME_WIDTH = 18


def print_value(name, value):
    """Print ``name``, the shape of ``value`` and its entries to 4 digits.

    Adding 0.0 prints -0.0 as 0.0: a zero gradient's sign is rounding, not information.
    """
    value = onp.asarray(value, dtype=float) + 0.0
    width = max(NAME_WIDTH, len(name))
    text = onp.array2string(value, precision=4, suppress_small=True, separator=", ",
                            prefix=" " * (width + 15))
    print(f"{name:<{width}} shape {value.shape!s:<7} {text}")


def show(fig, colors=128):
    """Display ``fig`` as a palette PNG with ``colors`` colours, then close it."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display
    from PIL import Image as PILImage

    full = io.BytesIO()
    fig.savefig(full, format="png", bbox_inches="tight")
    plt.close(fig)
    small = io.BytesIO()
    rgb = PILImage.open(full).convert("RGB")
    rgb.quantize(colors, PILImage.Quantize.MEDIANCUT).save(small, format="png",
                                                          optimize=True)
    display(Image(small.getvalue()))
