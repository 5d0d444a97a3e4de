"""Small HTML tables with inline styles: they render the same in Jupyter, JupyterLab,
Colab and the static book (no TeX, no CSS classes that a page might not load)."""

import html as _html


def html_table(header, rows, table_style, cell_style, head_style, escape=True):
    """A small inline-styled HTML table (no TeX, no CSS classes: renders anywhere).

    ``rows`` is a list of ``(cells, extra_cell_style)`` pairs; cells are escaped unless
    ``escape=False`` (for cells that are themselves HTML, such as bars).
    """
    head = "".join(f'<th style="{head_style}">{_html.escape(h)}</th>' for h in header)
    body = ""
    for row, style in rows:
        cells = "".join(
            f'<td style="{cell_style}{style}">{_html.escape(str(c)) if escape else c}</td>'
            for c in row)
        body += f"<tr>{cells}</tr>"
    return f'<table style="{table_style}"><tr>{head}</tr>{body}</table>'


def img_tag(png, alt):
    """PNG bytes as an inline ``<img>`` with an alt text, for an ``HTML`` widget.

    A widget's live picture is an ``<img>`` inside an ``HTML`` widget rather than an
    ``ipywidgets.Image``, because only the former carries an alt text.
    """
    import base64

    data = base64.b64encode(png).decode("ascii")
    return (f'<img alt="{_html.escape(alt)}" src="data:image/png;base64,{data}" '
            'style="max-width:100%">')
