"""The process pool beyond the executor contract (test_executor_contract.py): argument
checks, reuse across generations, resume, the CLI's --workers, and flat memory over 100+
models. The session's warm pool (conftest.py) serves the module."""

from __future__ import annotations

import subprocess
import sys

import pytest
from executor_helpers import (
    assert_memory_stays_flat,
)

from dlgene_core import GAFC1, Clade, CladeConfig
from dlgene_core.executors import resolve_executor
from dlgene_core.executors.pool import ProcessPoolExecutor

MAX_MODELS = 40  # the session pool's max_models_per_worker (conftest.py)


def _clade(folder, size: int = 4) -> GAFC1:
    # the default 120 s cap: these tests are not about time budgets, and a shared machine
    # once took over 30 s for a large wine model (it timed out and failed an "all ok" check)
    cfg = CladeConfig().updated(population_size=size, generations=2)
    clade = GAFC1(cfg, data="wine", folder=folder)
    clade.load_data()
    return clade


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="workers=0"):
        ProcessPoolExecutor(workers=0)
    with pytest.raises(ValueError, match="retries=-1"):
        ProcessPoolExecutor(retries=-1)
    with pytest.raises(ValueError, match="max_models_per_worker"):
        ProcessPoolExecutor(max_models_per_worker=0)


def test_resolve_pool_from_config():
    cfg = CladeConfig().updated(executor="pool", workers=3, retries=1)
    executor = resolve_executor(None, cfg)
    assert isinstance(executor, ProcessPoolExecutor)
    assert (executor.workers, executor.retries, executor.running) == (3, 1, False)


def test_clade_reuses_the_pool_across_generations(pool, tmp_path):
    pids = pool.worker_pids()
    clade = _clade(tmp_path / "run", size=2)
    seen = []
    clade.observe(lambda change: seen.append(change["new"]), names=["last_batch"])
    clade.evolve(generations=2, executor=pool)
    table = clade.phenotypes
    assert len(table) == 4 and set(table["status"]) == {"ok"}
    assert set(table["worker"]) <= {"pool-0", "pool-1"}
    assert pool.worker_pids() == pids  # the same warm workers served both generations
    assert pool.running  # the clade does not close an executor it was given
    assert seen and clade.progress == (2, 2)
    assert (tmp_path / "run" / "growth" / f"{table.iloc[0]['model_id']}.batches.parquet").exists()


def test_resume_a_pool_run_in_process(pool, tmp_path):
    clade = _clade(tmp_path / "run", size=3)
    clade.spawn()
    ids = list(clade.genotypes["model_id"])
    clade.grow_models(executor=pool, model_ids=ids[:2])
    first = clade.generation_phenotypes().set_index("model_id")
    reopened = Clade.open(tmp_path / "run")
    assert [j.model_id for j in reopened.jobs()] == ids[2:]
    reopened.load_data()
    reopened.grow_models(executor="inprocess")
    table = reopened.generation_phenotypes().set_index("model_id")
    assert sorted(table.index) == sorted(ids) and set(table["status"]) == {"ok"}
    for mid in ids[:2]:  # grown once, on the pool, not again
        assert table.loc[mid, "worker"].startswith("pool-")
        assert table.loc[mid, "train_time"] == first.loc[mid, "train_time"]
    assert set(table.loc[ids[2:], "worker"]) == {"main"}


@pytest.mark.slow
def test_cli_workers_flag_uses_a_pool(tmp_path):
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "dlgene_core", "evolve", "--data", "wine", "--out", str(out)]
    cmd += ["--workers", "2", "--generations", "1", "--quiet", "--set", "population_size=3"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    table = Clade.open(out).phenotypes
    assert len(table) == 3 and set(table["status"]) == {"ok"}
    assert all(w.startswith("pool-") for w in table["worker"])


@pytest.mark.slow
def test_memory_stays_flat_over_100_models(pool):
    """Workers are recycled after MAX_MODELS models, so RSS stays bounded."""
    assert_memory_stays_flat(pool, pool.worker_pids, MAX_MODELS)
