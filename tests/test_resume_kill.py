"""Kill `dlgene evolve` with SIGKILL mid-generation: finished models survive, the rest regrow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dlgene_core import Clade

REPO = Path(__file__).resolve().parents[1]


def _rows(path: Path) -> int:
    try:
        return len(pd.read_parquet(path))
    except (FileNotFoundError, OSError, ValueError):
        return 0


@pytest.mark.slow
def test_sigkill_then_resume(tmp_path) -> None:
    folder = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "dlgene_core",
        "evolve",
        "--data",
        "digits",
        "--out",
        str(folder),
        "--quiet",
        *("--set", "population_size=6", "--set", "generations=1", "--set", "epochs=3,4"),
        *("--set", "batch_size=8,16", "--set", "nb_units=4,16", "--set", "nb_layers=1,2"),
        *("--set", "optimizers=adam", "--set", "lr_bins=[[0.001,0.01]]"),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    table = folder / "phenotypes.parquet"
    try:
        deadline = time.monotonic() + 180
        while _rows(table) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no two models finished in 180 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    clade = Clade.open(folder)
    done = clade.phenotypes.copy()
    finished = sorted(done["model_id"])
    assert 2 <= len(finished) < 6, finished
    assert set(done["status"]) <= {"ok", "timed_out"}
    stamps = {}
    for mid in finished:
        model = folder / "models" / f"{mid}.h5"
        assert model.stat().st_size > 1000
        assert len(clade.growth(mid)) == done.set_index("model_id").loc[mid, "batches_run"]
        assert (folder / "results" / f"{mid}.confusion.parquet").exists()
        stamps[mid] = model.stat().st_mtime_ns
    assert clade.progress == (len(finished), 6)

    jobs = clade.jobs()
    assert sorted(j.model_id for j in jobs) == sorted(
        set(clade.genotypes["model_id"]) - set(finished)
    )
    started: list[str] = []
    clade.add_listener(lambda e: started.append(e["model_id"]) if e["event"] == "start" else None)
    clade.grow_models()
    assert sorted(started) == sorted(j.model_id for j in jobs)  # only the unfinished ones
    assert clade.progress == (6, 6) and len(clade.phenotypes) == 6
    after = clade.phenotypes.set_index("model_id").loc[finished].reset_index()
    pd.testing.assert_frame_equal(
        after.sort_values("model_id").reset_index(drop=True),
        done.sort_values("model_id").reset_index(drop=True),
        check_dtype=False,
    )
    for mid in finished:
        assert (folder / "models" / f"{mid}.h5").stat().st_mtime_ns == stamps[mid]
    reopened = Clade.open(folder)
    assert len(reopened.phenotypes) == 6 and reopened.jobs() == []
