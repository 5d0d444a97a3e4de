"""Re-executing an unchanged chapter stores the same bytes, so notebook diffs are reviewable.

The slow test runs `tools/execute_notebooks.py` (what `make notebooks` runs) twice on a
widget chapter and compares the files byte for byte. The fast tests feed the script's
post-processing steps small notebooks that show each kind of run-to-run noise.
"""

from __future__ import annotations

import copy
import difflib
import importlib.util
import json
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "execute_notebooks.py"
# The quickest of the three widget chapters (01, 04, 05): 11-12 s per run on the
# 2-core CI machine, against 12-14 s for 04 and 13-17 s for 05.
WIDGET_CHAPTER = ROOT / "chapters" / "01_chain_rule.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

_spec = importlib.util.spec_from_file_location("execute_notebooks", SCRIPT)
execute_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_notebooks)


def _execute_twice(tmp_path: Path) -> tuple[bytes, bytes]:
    """Two runs at once, into two folders: half the wait, and the kernels' timings differ."""
    runs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        command = [sys.executable, str(SCRIPT), "--output-dir", str(tmp_path / name),
                   str(WIDGET_CHAPTER)]
        runs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True))
    try:
        for run in runs:
            stdout, stderr = run.communicate(timeout=300)
            assert run.returncode == 0, f"{SCRIPT.name} failed:\n{stdout}\n{stderr}"
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    return tuple((tmp_path / name / WIDGET_CHAPTER.name).read_bytes()
                 for name in ("first", "second"))


def test_widget_chapter_executes_to_identical_bytes(tmp_path):
    first, second = _execute_twice(tmp_path)
    if first != second:
        diff = difflib.unified_diff(first.decode().splitlines(), second.decode().splitlines(),
                                    "first run", "second run", lineterm="", n=2)
        raise AssertionError("two runs of an unchanged chapter differ:\n"
                             + "\n".join(list(diff)[:60]))

    # The comparison proves something only if the chapter really stored widgets: every
    # model id is the stable one, and every view and reference points into the state.
    nb = json.loads(first)
    state = nb["metadata"]["widgets"][WIDGET_STATE]["state"]
    assert len(state) > 5, "the widget chapter stored no widget state"
    expected = {execute_notebooks.stable_widget_id(WIDGET_CHAPTER.stem, k)
                for k in range(len(state))}
    assert set(state) == expected
    views = [out["data"][WIDGET_VIEW]["model_id"] for cell in nb["cells"]
             for out in cell.get("outputs", []) if WIDGET_VIEW in out.get("data", {})]
    assert views and set(views) <= set(state)
    references = {ref for ref in json.dumps(state).split('"') if ref.startswith("IPY_MODEL_")}
    assert references and {ref[len("IPY_MODEL_"):] for ref in references} <= set(state)


# ----------------------------------------------------------------------- widget ids

def _widget_notebook(ids: list[str]) -> nbformat.NotebookNode:
    """A slider in a box, displayed, as nbclient stores it, with the given random ids."""
    slider, layout, box = ids
    nb = new_notebook(cells=[new_code_cell("box", execution_count=1, outputs=[
        new_output("display_data", data={
            "text/plain": "VBox(...)",
            WIDGET_VIEW: {"model_id": box, "version_major": 2, "version_minor": 0}})])])
    nb.cells[0].id = "widget-cell"
    nb.metadata.widgets = {WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": {
        # insertion order = creation order, as nbclient records it
        layout: {"model_name": "LayoutModel", "state": {"width": "50%"}},
        slider: {"model_name": "FloatSliderModel",
                 "state": {"layout": f"IPY_MODEL_{layout}", "value": 0.5}},
        box: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{slider}"]}},
    }}}
    return nb


def test_widget_ids_depend_only_on_the_notebook_and_creation_order():
    runs = [_widget_notebook([uuid.uuid4().hex for _ in range(3)]) for _ in range(2)]
    assert runs[0] != runs[1]
    for nb in runs:
        execute_notebooks.rename_widget_ids(nb, "01_example")
    assert nbformat.writes(runs[0]) == nbformat.writes(runs[1])

    nb = runs[0]
    layout, slider, box = (execute_notebooks.stable_widget_id("01_example", k)
                           for k in range(3))
    state = nb.metadata.widgets[WIDGET_STATE]["state"]
    assert list(state) == [layout, slider, box]
    assert state[slider]["state"]["layout"] == f"IPY_MODEL_{layout}"
    assert state[box]["state"]["children"] == [f"IPY_MODEL_{slider}"]
    assert nb.cells[0].outputs[0].data[WIDGET_VIEW]["model_id"] == box
    # another notebook gets other ids, still shaped like the UUIDs nbval sanitizes
    other = execute_notebooks.stable_widget_id("02_example", 0)
    assert other != layout and len(other) == 32 and int(other, 16) >= 0


def test_notebook_without_widgets_is_left_alone():
    nb = new_notebook(cells=[new_code_cell("print(1)", execution_count=1, outputs=[
        new_output("stream", name="stdout", text="1\n")])])
    before = copy.deepcopy(nb)
    assert execute_notebooks.rename_widget_ids(nb, "03_example") == {}
    assert nb == before


# ----------------------------------------------------------------------- measurements

def _timing_cell(text: str, tags=("nbval-ignore-output",), source: str = "best_time(f)",
                 cell_id: str = "timing") -> nbformat.NotebookNode:
    cell = new_code_cell(source, execution_count=1, metadata={"tags": list(tags)},
                         outputs=[new_output("stream", name="stdout", text=text)])
    cell.id = cell_id
    return cell


def _keep(stored_cell, fresh_cell) -> nbformat.NotebookNode:
    stored = new_notebook(cells=[stored_cell])
    fresh = new_notebook(cells=[fresh_cell])
    execute_notebooks.keep_stored_measurements(fresh, stored)
    return fresh.cells[0].outputs[0].text


def test_stored_timing_is_kept_when_only_its_numbers_changed():
    stored = "one gradient: your engine 3 ms, mini_autograd 0.2 ms (15x)\n"
    fresh = "one gradient: your engine 14 ms, mini_autograd 0.25 ms (56x)\n"
    assert _keep(_timing_cell(stored), _timing_cell(fresh)) == stored


def test_fresh_output_is_stored_when_more_than_numbers_changed():
    stored = "one gradient: your engine 3 ms\n"
    fresh = "one gradient: your engine 3 ms, mini_autograd 0.2 ms\n"
    assert _keep(_timing_cell(stored), _timing_cell(fresh)) == fresh


def test_fresh_output_is_stored_for_untagged_or_edited_cells():
    stored, fresh = "loss 0.707\n", "loss 0.512\n"
    assert _keep(_timing_cell(stored, tags=()), _timing_cell(fresh, tags=())) == fresh
    edited = _timing_cell(fresh, source="best_time(f)  # edited")
    assert _keep(_timing_cell(stored), edited) == fresh


def test_stored_figure_of_a_measurement_is_kept_when_only_its_pixels_changed():
    def figure_cell(png: str, text: str = "<Figure size 640x480 with 1 Axes>"):
        cell = _timing_cell("", source="plot(memory_held)")
        cell.outputs = [new_output("display_data", data={"image/png": png,
                                                          "text/plain": text})]
        return cell

    def kept_png(stored_cell, fresh_cell) -> str:
        fresh = new_notebook(cells=[fresh_cell])
        execute_notebooks.keep_stored_measurements(fresh, new_notebook(cells=[stored_cell]))
        return fresh.cells[0].outputs[0].data["image/png"]

    assert kept_png(figure_cell("iVBORw0KGgoAAA1"), figure_cell("iVBORw0KGgoAAA2")) \
        == "iVBORw0KGgoAAA1"
    more_than_pixels = figure_cell("iVBORw0KGgoAAA3", text="<Figure of something else>")
    assert kept_png(figure_cell("iVBORw0KGgoAAA1"), more_than_pixels) == "iVBORw0KGgoAAA3"
