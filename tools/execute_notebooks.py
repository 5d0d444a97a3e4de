"""Execute chapter notebooks so that re-running an unchanged chapter gives the same bytes.

    python tools/execute_notebooks.py chapters/*.ipynb          # in place (`make notebooks`)
    python tools/execute_notebooks.py --output-dir /tmp/x chapters/04_convolution.ipynb

Each notebook runs top to bottom in a fresh kernel (the interpreter running this script,
through the venv's own "python3" kernelspec), with the notebook's folder as working
directory, storing outputs and widget state. The run time of each notebook is printed,
and flagged when over the per-chapter budget.

A plain `jupyter nbconvert --execute` stores three kinds of run-to-run noise, which this
script removes after execution:

1. Stream outputs are split by timing. The kernel sends printed text in chunks whenever
   its buffer is flushed (on a timer), so three prints may arrive as one stream output
   or as three. Consecutive stream outputs of the same name are merged (nbconvert's
   CoalesceStreamsPreprocessor), which is also how nbval and the HTML book show them.
2. Widget model ids are random UUIDs drawn by the kernel. They appear in the outputs
   (``application/vnd.jupyter.widget-view+json``) and in the notebook's widget state,
   where models refer to each other as ``"IPY_MODEL_<id>"``. Every id is replaced by one
   made from the notebook's name and the order in which the kernel created the model,
   everywhere it occurs. The new ids keep the 32-hex-digit shape of the old ones, so
   tools that recognise widget ids (nbval's sanitizer, tests/nbval_sanitize.cfg) still do.
3. Outputs that are measurements of the machine (timings, memory), in cells tagged
   ``nbval-ignore-output``, differ in their numbers on every run. If a fresh output of
   such a cell differs from the stored one only in its numbers, or in the pixels of a
   figure that plots the measurement, the stored output is kept;
   ``--refresh-measurements`` stores the fresh numbers instead.

Other figures need nothing here: matplotlib's PNGs carry no timestamp (only a
"Software" text chunk), so a figure's bytes change only when what it plots changes.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError
from nbconvert.preprocessors import CoalesceStreamsPreprocessor, ExecutePreprocessor

BUDGET_SECONDS = 20.0
# nbval's cell tag (and its older in-code comment) for an output that may change.
IGNORE_TAG = "nbval-ignore-output"
IGNORE_COMMENT = "# NBVAL_IGNORE_OUTPUT"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MODEL_REF = "IPY_MODEL_"
# A number standing on its own (not part of a word, a base64 run or a decimal).
NUMBER_RE = re.compile(r"(?<![\w.+/])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


# ----------------------------------------------------------------------- environment

def kernel_environment() -> None:
    """Set what the kernel inherits: the venv's kernelspec and reproducible settings."""
    # The venv's own "python3" kernelspec comes first, so the kernel is this interpreter
    # (the one with the pinned packages), not a user-level or system kernel.
    venv_jupyter = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [venv_jupyter] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep)
                              if p and p != venv_jupyter]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(paths)
    os.environ["PYTHONHASHSEED"] = "0"            # set and dict iteration orders
    os.environ["SOURCE_DATE_EPOCH"] = "0"         # matplotlib's SVG/PDF date stamps
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    # small matrices: BLAS threads only contend for the cores (see the Makefile)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


# ----------------------------------------------------------------------- widget ids

def widget_ids_in_order(nb) -> list[str]:
    """Widget model ids in the order the kernel created them.

    nbclient records a model's state when the kernel opens its comm, so the widget
    state's insertion order (kept in memory, lost once the file is written with sorted
    keys) is the creation order. Models shown in an output but missing from the state
    (none in practice) follow, in order of appearance.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    ids = list(state)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            model_id = output.get("data", {}).get(WIDGET_VIEW, {}).get("model_id")
            if model_id and model_id not in ids:
                ids.append(model_id)
    return ids


def stable_widget_id(notebook_name: str, index: int) -> str:
    """A 32-hex-digit id: a prefix from the notebook's name, then the creation index.

    Ids sort in creation order, so the stored widget state reads top to bottom, and two
    notebooks never share an id (the book's pages are independent, but a reader may
    open two notebooks in one JupyterLab).
    """
    prefix = hashlib.sha256(notebook_name.encode("utf-8")).hexdigest()[:24]
    return f"{prefix}{index:08x}"


def rename_widget_ids(nb, notebook_name: str) -> dict[str, str]:
    """Replace every widget model id in ``nb`` (outputs and widget state) by a stable one.

    Returns the mapping old -> new. A string is rewritten when it is a known id or
    ``"IPY_MODEL_" + id``, wherever it occurs (dict keys included), so references between
    models, Output widgets' nested outputs and the views in cell outputs stay consistent.
    """
    mapping = {old: stable_widget_id(notebook_name, k)
               for k, old in enumerate(widget_ids_in_order(nb))}
    if not mapping:
        return mapping

    def rename(text: str) -> str:
        if text in mapping:
            return mapping[text]
        if text.startswith(MODEL_REF) and text[len(MODEL_REF):] in mapping:
            return MODEL_REF + mapping[text[len(MODEL_REF):]]
        return text

    def walk(node):
        if isinstance(node, dict):
            renamed = {rename(k): walk(v) for k, v in node.items()}
            node.clear()
            node.update(renamed)
            return node
        if isinstance(node, list):
            node[:] = [walk(v) for v in node]
            return node
        if isinstance(node, str):
            return rename(node)
        return node

    for cell in nb.cells:
        walk(cell.get("outputs", []))
    if "widgets" in nb.metadata:
        walk(nb.metadata.widgets)
    return mapping


# ----------------------------------------------------------------------- measurements

def _masked(outputs) -> str:
    """The outputs as JSON with every free-standing number and every image replaced by ``#``."""
    outputs = copy.deepcopy(outputs)
    for output in outputs:
        for mime in list(output.get("data", {})):
            if mime.startswith("image/"):
                output["data"][mime] = "#"
    text = json.dumps(outputs, sort_keys=True)
    return re.sub(r"[ ]+", " ", NUMBER_RE.sub("#", text))


def _shows_widgets(cell) -> bool:
    """Widget views are made stable by renaming, never by keeping old outputs."""
    return any(WIDGET_VIEW in output.get("data", {}) for output in cell.get("outputs", []))


def is_measurement_cell(cell) -> bool:
    """A code cell whose output nbval is told not to compare (a timing, a widget)."""
    return cell.cell_type == "code" and (
        IGNORE_TAG in cell.get("metadata", {}).get("tags", [])
        or cell.source.lstrip().startswith(IGNORE_COMMENT))


def keep_stored_measurements(nb, stored) -> list[int]:
    """Keep the stored outputs of marked cells whose fresh outputs differ only in numbers.

    ``stored`` is the notebook as it was before execution. Cells are matched by id and
    must have the same source. Returns the indices of the cells whose outputs were kept.
    """
    before = {cell.get("id"): cell for cell in stored.cells if is_measurement_cell(cell)}
    kept = []
    for index, cell in enumerate(nb.cells):
        old = before.get(cell.get("id")) if is_measurement_cell(cell) else None
        if old is None or old.source != cell.source or _shows_widgets(cell):
            continue
        if cell.outputs != old.outputs and _masked(cell.outputs) == _masked(old.outputs):
            cell.outputs = copy.deepcopy(old.outputs)
            kept.append(index)
    return kept


# ----------------------------------------------------------------------- one notebook

def execute_notebook(source: Path, target: Path, timeout: int,
                     refresh_measurements: bool = False) -> bool:
    """Execute ``source`` in a fresh kernel, write the stable result to ``target``.

    Returns True if ``target`` changed. Raises CellExecutionError if a cell fails.
    """
    stored = nbformat.read(source, as_version=4)
    nb = copy.deepcopy(stored)
    executor = ExecutePreprocessor(
        timeout=timeout, kernel_name="python3", store_widget_state=True,
        record_timing=False)
    executor.preprocess(nb, {"metadata": {"path": str(source.parent.resolve())}})
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    rename_widget_ids(nb, source.stem)
    if not refresh_measurements:
        keep_stored_measurements(nb, stored)
    text = nbformat.writes(nb) + "\n"   # the layout of every stored chapter
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    target.write_text(text, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--output-dir", type=Path,
                        help="write the executed notebooks here instead of in place")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS,
                        help="flag a notebook that takes longer (seconds)")
    parser.add_argument("--refresh-measurements", action="store_true",
                        help=f"store fresh numbers in cells tagged {IGNORE_TAG} (timings)")
    args = parser.parse_args(argv)

    kernel_environment()
    if args.output_dir:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for source in args.notebooks:
        target = args.output_dir / source.name if args.output_dir else source
        start = time.perf_counter()
        try:
            changed = execute_notebook(source, target, args.timeout,
                                       args.refresh_measurements)
        except CellExecutionError as err:
            print(f"FAILED: {source}\n{err}", file=sys.stderr)
            return 1
        seconds = time.perf_counter() - start
        total += seconds
        flag = f"  <-- over the {args.budget:g} s budget" if seconds > args.budget else ""
        state = "changed" if changed else "unchanged"
        print(f"{seconds:7.1f} s  {source}  ({state}){flag}", flush=True)
    print(f"{total:7.1f} s  total", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
