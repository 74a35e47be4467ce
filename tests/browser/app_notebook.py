"""The notebook the browser tests serve: a dashboard on digits that logs kernel-side state.

Besides showing ``CladeDashboard(clade)`` it appends one JSON line per change to
``events.jsonl`` (clade status, message, progress, parents, the tier settings and the
picker's widgets), so the tests can assert on what the kernel holds, not on pixels.
"""

from __future__ import annotations

from pathlib import Path

import kernel_stacks
import nbformat
from nbformat.v4 import new_code_cell, new_notebook

STACKS_FILE = "kernel-stacks.txt"  # beside the events file

SETUP = '''\
import json
import os
import threading
import time
from pathlib import Path

from dlgene_core import GAFC1, CladeConfig
from dlgene_widgets import CladeDashboard

EVENTS = Path({events!r})
RUN_DIR = Path({run_dir!r})
_lock = threading.Lock()
# SIGUSR1 writes every thread's stack next to the events: a test that times out shows
# where the kernel is (a hang in a panel's update, a lock held across threads)
{stacks}

def record(kind, **data):
    row = {{"t": time.time(), "kind": kind, "thread": threading.current_thread().name, **data}}
    with _lock, EVENTS.open("a") as out:
        out.write(json.dumps(row, default=str) + "\\n")


def find(widget, css_class):
    """Every widget under ``widget`` carrying ``css_class`` (the CSS class contract)."""
    found, stack, seen = [], [widget], set()
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if css_class in getattr(w, "_dom_classes", ()):
            found.append(w)
        stack.extend(getattr(w, "children", ()) or ())
    return found


{config}
clade = GAFC1(config, data="digits", folder=RUN_DIR)
clade.load_data()
dashboard = CladeDashboard(clade)

clade.observe(lambda c: record("status", value=c.new, message=clade.message), "status")
clade.observe(lambda c: record("message", value=c.new, status=clade.status), "message")
clade.observe(lambda c: record("progress", value=list(c.new), status=clade.status), "progress")
clade.observe(lambda c: record("generation", value=c.new), "generation")
clade.observe(
    lambda c: record("parents", value=list(c.new["model_id"]) if len(c.new) else []),
    "parents",
)
clade.config.observe(
    lambda c: record("config", name=c.name, value=c.new), ["top_tier", "random_tier"]
)
for css in ("dlgene-top-tier", "dlgene-random-tier", "dlgene-parent-preview"):
    for w in find(dashboard, css):
        w.observe(lambda c, css=css: record("widget", css=css, value=c.new), "value")
selection, grid = dashboard.selection, dashboard.table
selection.observe(
    lambda c: record("selection", name=c.name, value=c.new), ["model_id", "filtered_ids"]
)
grid.observe(lambda c: record("grid", value=c.new), "row_ids")
grid.grid.observe(
    lambda c: record("grid-" + c.name.strip("_"), value=c.new, rows=grid.visible_ids()),
    ["selections", "_transforms", "_visible_rows"],
)
_first_batch = set()


def _on_training_event(event):
    """The first batch of each model (when live curves can first be drawn) and each finish."""
    model_id = event.get("model_id")
    if event.get("event") == "batch" and model_id not in _first_batch:
        _first_batch.add(model_id)
        record("first_batch", model=model_id)
    elif event.get("event") == "result":
        record("result", model=model_id, status=event.get("status"))


clade.add_listener(_on_training_event)
record("ready", pid=os.getpid(), folder=str(RUN_DIR))
dashboard'''


DEFAULT_CONFIG = """\
config = CladeConfig(
    population_size=4,
    nb_layers=(1, 2),
    nb_units=(8, 64),
    epochs=(2, 3),
    batch_size=(16, 32),
    max_train_time=20.0,
    top_tier=0.25,
    random_tier=0.0,
    seed=11,
    objectives=[("val_accuracy", "max"), ("n_params", "min")],  # the overview draws the front
)"""


def write_app_notebook(
    path: Path, events: Path, run_dir: Path, config_source: str | None = None
) -> Path:
    """``config_source`` is the cell's ``config = CladeConfig(...)`` statement."""
    source = SETUP.format(
        events=str(events),
        run_dir=str(run_dir),
        config=config_source or DEFAULT_CONFIG,
        stacks=kernel_stacks.register_source(f"{str(events.with_name(STACKS_FILE))!r}"),
    )
    cell = new_code_cell(source)
    cell.metadata["jupyter"] = {"source_hidden": True}  # Lab shows (and shoots) the panel only
    nb = new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path
