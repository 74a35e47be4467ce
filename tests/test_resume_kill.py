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


@pytest.mark.slow
def test_sigkill_then_resume_with_pruned_and_duplicate_models(tmp_path) -> None:
    """A tiny space (8 genotypes for 12 models) forces duplicates and the median pruner
    acts in generation 1; a kill mid generation 1 loses nothing finished, and resume ends
    with every genotype trained once."""
    from dlgene_core.dedup import canonical
    from dlgene_core.families import get_family
    from dlgene_core.operators import from_row

    folder = tmp_path / "run"
    space = [
        "population_size=6",
        "generations=2",
        "epochs=2,3",
        "batch_size=64,65",
        "nb_units=4,5",
        "nb_layers=1,1",
        "activations=relu",
        "optimizers=adam",
        "lr_ranges={}",
        "lr_bins=[[0.005,0.005]]",
        "regularizer_chance=0",
        "pruner_startup_models=2",
        "early_stopping_patience=1",
    ]
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
        "--strategy",
        "aging",
        *[arg for item in space for arg in ("--set", item)],
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    table = folder / "phenotypes.parquet"
    try:
        deadline = time.monotonic() + 300
        while _rows(table) < 7:  # generation 0 done, generation 1 under way
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "generation 0 did not finish in 300 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    clade = Clade.open(folder)
    before = clade.phenotypes.set_index("model_id")
    assert len(before) >= 7 and clade.generation == 1
    clade.evolve()
    after = clade.phenotypes.set_index("model_id")
    assert len(after) == 12 and clade.jobs() == []
    pd.testing.assert_frame_equal(after.loc[before.index], before, check_dtype=False)
    family = get_family("GAFC1")
    genotypes = clade.all_genotypes.set_index("model_id")
    trained = after[after["status"] != "duplicate"].index
    forms = [canonical(family, from_row(family, genotypes.loc[m])) for m in trained]
    assert len(forms) == len(set(forms))
    assert (after["status"] == "duplicate").sum() >= 4
    assert Clade.open(folder).jobs() == []
