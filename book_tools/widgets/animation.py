"""A figure swept over one control, stored as a scrubbable HTML player.

This is every widget's kernel-free fallback: the static HTML book has no kernel, so the
same figure is pre-rendered for a sweep of one control and embedded as a self-contained
player (matplotlib's ``to_jshtml``).  Matplotlib draws the player's element ids at
random; they are replaced by ids made from a name, so that re-executing a notebook
stores byte-identical output and nbval can check it like any other output.
"""

import base64
import io
import re


def scrubbable_animation(fig, update, frames, fps=4, name="animation", colours=None):
    """Render ``update(frame)`` for each of ``frames`` into a scrubbable HTML player.

    Returns an ``IPython.display.HTML`` object.  The player's element ids, which
    matplotlib draws at random, are replaced by ids made from ``name`` (give each
    animation on a page its own name), so re-running the notebook stores identical
    output.  With ``colours``, every frame is stored with a palette of that many
    colours (:func:`palette_png`).
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    frames = list(frames)
    # Saving draws each frame for the PNG; after each update the animation also asks the
    # canvas to redraw, which on a non-interactive canvas renders the frame a second time
    # for nothing. Silencing that request halves the cost and changes no pixel.
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    anim = FuncAnimation(fig, update, frames=frames, interval=1000 / fps, blit=False)
    html = anim.to_jshtml(fps=fps, default_mode="once")
    plt.close(fig)
    html = _stable_ids(html, name)
    return HTML(html if colours is None else _palette_frames(html, colours))


def figure_png(fig, dpi=80, colours=None, **savefig_kwargs):
    """A figure as PNG bytes (with a palette of ``colours`` colours if given); closes it.

    No software tag is written, so the same figure gives the same bytes every time.
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None},
                **savefig_kwargs)
    plt.close(fig)
    png = buffer.getvalue()
    return png if colours is None else palette_png(png, colours)


def palette_png(png, colours):
    """PNG bytes re-encoded with a palette of ``colours`` colours, without dithering.

    A figure of lines, text and flat fills has a few hundred distinct colours, nearly
    all from antialiasing; a palette of 32 to 64 looks the same and stores about a
    quarter of the bytes, which keeps the stored notebooks and the site light.  Not for
    smooth images (a rendered scene, a colour map): they would show bands.
    Deterministic.
    """
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(
        colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue()


_FRAME = re.compile(r"(data:image/png;base64,)([A-Za-z0-9+/=\\\n]+)")


def _palette_frames(html, colours):
    def smaller(match):
        png = base64.b64decode(re.sub(r"[^A-Za-z0-9+/=]", "", match.group(2)))
        return match.group(1) + base64.b64encode(palette_png(png, colours)).decode("ascii")

    return _FRAME.sub(smaller, html)


def _stable_ids(html, name):
    ids = sorted(set(re.findall(r"_anim_[0-9a-f]{32}", html)))
    ids += sorted(set(re.findall(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", html)) - {
        i[len("_anim_"):] for i in ids})
    for k, old in enumerate(ids):
        prefix = "_anim_" if old.startswith("_anim_") else ""
        html = html.replace(old, f"{prefix}{name}_{k}")
    return html
