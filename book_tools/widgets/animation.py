"""A figure swept over one control, stored as a scrubbable HTML player.

This is every widget's kernel-free fallback: the static HTML book has no kernel, so the
same figure is pre-rendered for a sweep of one control and embedded as a self-contained
player (matplotlib's ``to_jshtml``).  Matplotlib draws the player's element ids at
random; they are replaced by ids made from a name, so that re-executing a notebook
stores byte-identical output and nbval can check it like any other output.
"""

import re


def scrubbable_animation(fig, update, frames, fps=4, name="animation"):
    """Render ``update(frame)`` for each of ``frames`` into a scrubbable HTML player.

    Returns an ``IPython.display.HTML`` object.  The player's element ids, which
    matplotlib draws at random, are replaced by ids made from ``name`` (give each
    animation on a page its own name), so re-running the notebook stores identical
    output.
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
    return HTML(_stable_ids(html, name))


def _stable_ids(html, name):
    ids = sorted(set(re.findall(r"_anim_[0-9a-f]{32}", html)))
    ids += sorted(set(re.findall(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", html)) - {
        i[len("_anim_"):] for i in ids})
    for k, old in enumerate(ids):
        prefix = "_anim_" if old.startswith("_anim_") else ""
        html = html.replace(old, f"{prefix}{name}_{k}")
    return html
