"""Interactive figures for the book, each with a kernel-free fallback.

A widget needs a running kernel; the static HTML book has none.  So every widget in the
book comes with a pre-rendered animation of the same figure over a sweep of one control,
made with matplotlib's animation tools and embedded as self-contained HTML (a player
with a scrub slider; no kernel, no network).  The computation behind a widget is always
a plain function (tested on its own); the widget and the animation only draw it.

This package is optional: it imports matplotlib and ipywidgets, and the engine core
never imports it.
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


def html_table(header, rows, table_style, cell_style, head_style, escape=True):
    """A small inline-styled HTML table (no TeX, no CSS classes: renders anywhere).

    ``rows`` is a list of ``(cells, extra_cell_style)`` pairs; cells are escaped unless
    ``escape=False`` (for cells that are themselves HTML, such as bars).
    """
    import html

    head = "".join(f'<th style="{head_style}">{html.escape(h)}</th>' for h in header)
    body = ""
    for row, style in rows:
        cells = "".join(
            f'<td style="{cell_style}{style}">{html.escape(str(c)) if escape else c}</td>'
            for c in row)
        body += f"<tr>{cells}</tr>"
    return f'<table style="{table_style}"><tr>{head}</tr>{body}</table>'
