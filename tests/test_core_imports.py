"""dlgene_core stays headless: no widget or IPython imports, and no TensorFlow on import.

Keras 3 itself imports IPython when it is installed (keras/src/saving/file_editor.py), so
the check compares against what `import keras` alone brings in, and a static pass over the
source makes sure no dlgene_core module names those packages at all.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UI = ("ipywidgets", "bqplot", "IPython", "ipykernel")

SCRIPT = f"""
import importlib, json, pkgutil, sys
UI = {UI!r}
def ui():
    return {{m for m in sys.modules if m.split(".")[0] in UI}}
import dlgene_core
bare = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras") or m in ui())
import keras  # the baseline: what Keras brings in by itself
baseline = ui()
names = [m.name for m in pkgutil.walk_packages(dlgene_core.__path__, "dlgene_core.")
         if m.name != "dlgene_core.__main__"]  # that one runs the CLI
for name in names:
    importlib.import_module(name)
print(json.dumps({{"bare": bare, "names": names, "added": sorted(ui() - baseline)}}))
"""


def test_core_imports_are_headless() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["bare"] == []  # `import dlgene_core`: no TensorFlow, Keras or UI modules
    for module in ("growth", "trainer", "clade", "cli", "executors", "families.dense"):
        assert f"dlgene_core.{module}" in report["names"]
    assert report["added"] == []  # every core module: nothing beyond what Keras imports


def test_no_core_source_imports_ui_packages() -> None:
    offenders = []
    for path in sorted((REPO / "dlgene_core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in UI]
    assert offenders == []
