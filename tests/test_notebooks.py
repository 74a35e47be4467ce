"""Execute every examples/ notebook top to bottom with nbclient and check what it produced.

Each notebook runs in a scratch copy of examples/ with its experiment folders under
``tmp_path`` (``DLGENE_RUNS``) and the shared data folder as ``DLGENE_DATA_DIR``. A last
cell is appended that lists the Python threads started by the notebook and still alive, so
a notebook that leaves training running fails here.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import kernel_stacks
import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT = 180
# seconds for a cell's last outputs after its reply: 60 timed out once on 2 cores with ruff
# and `duplicates` running beside the suite (alone it passes in 24 s); a late output still
# fails the test, only later
IOPUB_TIMEOUT = 150
STACKS_AFTER = 45  # a cell still running then has the kernel's thread stacks written down

pytestmark = pytest.mark.slow

THREADS_BEFORE = kernel_stacks.register_source('__import__("os").environ["DLGENE_QA_STACKS"]') + (
    """\
import threading as _qa_threading
_qa_threads_before = {t.ident for t in _qa_threading.enumerate()}"""
)
THREADS_AFTER = """\
import json as _qa_json
print("QA-THREADS", _qa_json.dumps(sorted(
    t.name for t in _qa_threading.enumerate()
    if t.ident not in _qa_threads_before and t.is_alive()
)))"""


def test_every_notebook_is_covered() -> None:
    assert NOTEBOOKS == [
        "01_walkthrough.ipynb",
        "02_dashboard.ipynb",
        "03_pick_parents_by_hand.ipynb",
        "04_voila_dashboard.ipynb",
    ]


def test_notebooks_match_their_generator(tmp_path: Path) -> None:
    """examples/_make_notebooks.py regenerates the committed notebooks exactly."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_make_notebooks", EXAMPLES / "_make_notebooks.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.main(tmp_path):
        fresh = nbformat.read(path, as_version=4)
        committed = nbformat.read(EXAMPLES / path.name, as_version=4)
        assert fresh == committed, f"{path.name} differs: run python examples/_make_notebooks.py"


def run_notebook(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path | None = None
) -> tuple[nbformat.NotebookNode, str, Path]:
    """Execute a copy of examples/NAME; return the executed notebook, its stdout, runs dir."""
    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("dlgene-runs", ".ipynb_*"))
    runs = tmp_path / "runs"
    monkeypatch.setenv("DLGENE_RUNS", str(runs))
    if data_dir is not None:
        monkeypatch.setenv("DLGENE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    stacks = tmp_path / "kernel-stacks.txt"
    monkeypatch.setenv("DLGENE_QA_STACKS", str(stacks))
    nb = nbformat.read(work / name, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(THREADS_BEFORE))
    nb.cells.append(nbformat.v4.new_code_cell(THREADS_AFTER))
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        # a dashboard opens ~1,400 widget comms: on 2 loaded cores their messages can
        # still be on their way 4 s (nbclient's default) after the cell's reply, and a
        # cell's outputs were then dropped (Jupyter front ends wait for them)
        iopub_timeout=IOPUB_TIMEOUT,
        raise_on_iopub_timeout=True,
        resources={"metadata": {"path": str(work)}},
    )
    watch = StackWatch(client)
    client.on_cell_complete, client.on_cell_executed = watch.start, watch.stop
    try:
        client.execute()
    except CellTimeoutError as error:
        raise AssertionError(
            f"{error}\nkernel threads {STACKS_AFTER} s into the cell:\n"
            f"{watch.problem or kernel_stacks.read(stacks)}"
        ) from error
    finally:
        watch.stop()
    errors = [
        f"{out.ename}: {out.evalue}"
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, errors
    stdout = "".join(
        out.text
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stdout"
    )
    leftover = json.loads(re.search(r"QA-THREADS (.*)", stdout).group(1))
    assert not [t for t in leftover if "dlgene" in t.lower() or "train" in t.lower()], leftover
    return nb, stdout, runs


class StackWatch:
    """Signals the kernel (SIGUSR1: the first cell's faulthandler writes every thread's
    stack) when a cell has run ``STACKS_AFTER`` s, so a cell that times out says where the
    kernel was (a dashboard cell once waited 60 s for its last outputs on CI)."""

    def __init__(self, client: NotebookClient):
        self.client = client
        self.timer: threading.Timer | None = None
        self.problem = ""  # why the kernel could not be signalled, if it could not

    def start(self, **_cell: Any) -> None:
        self.stop()
        self.timer = threading.Timer(STACKS_AFTER, self._dump)
        self.timer.daemon = True
        self.timer.start()

    def stop(self, **_cell: Any) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _dump(self) -> None:
        pid = getattr(getattr(self.client.km, "provisioner", None), "pid", None)
        self.problem = kernel_stacks.request(pid)


def printed(stdout: str, label: str) -> list[str]:
    """Every value printed as ``label: value``."""
    return re.findall(rf"^{re.escape(label)}:? (.*)$", stdout, flags=re.MULTILINE)


def widget_views(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [
        out.data["application/vnd.jupyter.widget-view+json"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "data" in out and "application/vnd.jupyter.widget-view+json" in out.data
    ]


def test_01_walkthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> None:
    _, stdout, runs = run_notebook("01_walkthrough.ipynb", tmp_path, monkeypatch, shared_data)
    run = runs / "01-walkthrough"
    assert printed(stdout, "Reuters from") == [str((shared_data / "reuters_flat.npz").resolve())]
    assert "46 classes" in stdout
    assert printed(stdout, "genotypes rows") == ["4"]
    assert printed(stdout, "seed models") == ["4"]
    assert printed(stdout, "phenotypes rows") == ["4", "8"]
    assert printed(stdout, "confusion matrix shape") == ["(46, 46)"]
    assert int(printed(stdout, "misclassified test wires")[0]) > 0
    assert printed(stdout, "generation")[0].startswith("1 children: 4")
    assert printed(stdout, "generations grown") == ["[0, 1]"]
    phenotypes = pd.read_parquet(run / "phenotypes.parquet")
    assert len(phenotypes) == 8
    assert sorted(phenotypes["generation"].unique()) == [0, 1]
    assert len(list((run / "models").glob("*.h5"))) >= 8  # trained (+ seed) models
    assert len(list((run / "growth").glob("*.batches.parquet"))) == 8
    parents = pd.read_parquet(run / "selections.parquet")
    assert set(parents["model_id"]) <= set(phenotypes["model_id"])


def test_02_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb, stdout, runs = run_notebook("02_dashboard.ipynb", tmp_path, monkeypatch)
    run = runs / "02-dashboard"
    # One evolve started from code (the cell returns at once), then one clearly labelled
    # waiting cell; this replaces the old cells that each blocked in dashboard.wait().
    assert printed(stdout, "running in the background") == ["evolve"]
    assert printed(stdout, "phenotypes rows") == ["12"]
    assert printed(stdout, "generations grown") == ["[0, 1, 2]"]
    waiting = [c for c in nb.cells if c.cell_type == "code" and ".wait(" in c.source]
    assert len(waiting) == 1 and "blocks-kernel" in waiting[0].metadata.get("tags", [])
    assert len(widget_views(nb)) >= 3  # the dashboard, %dlgene_dashboard, %dlgene_config
    phenotypes = pd.read_parquet(run / "phenotypes.parquet")
    assert len(phenotypes) == 12
    # the default preset prunes (median pruner) and never trains a repeat (duplicate)
    assert set(phenotypes["status"]) <= {
        "ok",
        "timed_out",
        "diverged",
        "failed",
        "pruned",
        "duplicate",
    }


def test_03_pick_parents_by_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb, stdout, runs = run_notebook("03_pick_parents_by_hand.ipynb", tmp_path, monkeypatch)
    run = runs / "03-pick-parents"
    assert widget_views(nb)
    tiers = printed(stdout, "parents (tiers)")
    assert len(tiers) == 1 and tiers[0] != "[]"
    by_hand = json.loads(printed(stdout, "parents (by hand)")[0].replace("'", '"'))
    assert len(by_hand) == 2
    assert printed(stdout, "generation") == ["1 children: 4"]
    selections = pd.read_parquet(run / "selections.parquet")
    manual = selections[selections["generation"] == 0]
    assert sorted(manual["model_id"]) == sorted(by_hand)
    assert set(manual["reason"]) == {"manual"}
    genotypes = pd.read_parquet(run / "genotypes.parquet")
    children = genotypes[genotypes["generation"] == 1]
    assert len(children) == 4
    assert {p for ps in children["parents"] for p in ps} <= set(by_hand)
    # the picker ends consistent: on generation 1, nothing to choose yet, no stale notes
    assert printed(stdout, "picker mode") == ["tiers picks: []"]
    assert "generation 1 has no grown models" in printed(stdout, "picker hint")[0]
    assert printed(stdout, "picker note") == ["(none)"]
    assert not [c for c in nb.cells if c.cell_type == "code" and ".wait(" in c.source]


def test_04_voila_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb, _, runs = run_notebook("04_voila_dashboard.ipynb", tmp_path, monkeypatch)
    assert len(widget_views(nb)) == 1
    folders = list(runs.glob("04-voila-*"))
    assert len(folders) == 1
    assert (folders[0] / "clade.json").exists()
    assert (folders[0] / "config.json").exists()
