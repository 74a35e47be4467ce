"""The process pool: live events, reuse across generations, stop, resume, same results,
the CLI's --workers, and flat memory over 100+ models. One pool serves the module."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from executor_helpers import (
    WINE,
    Recorder,
    assert_memory_stays_flat,
    assert_same_as_one_thread_in_process,
    tiny_jobs,
)

from dlgene_core import GAFC1, Clade, CladeConfig
from dlgene_core.executors import resolve_executor
from dlgene_core.executors.pool import ProcessPoolExecutor

MAX_MODELS = 40


@pytest.fixture(scope="module")
def pool():
    executor = ProcessPoolExecutor(workers=2, max_models_per_worker=MAX_MODELS)
    executor.wait_ready()
    yield executor
    executor.close()


def _clade(folder, size: int = 4) -> GAFC1:
    cfg = CladeConfig().updated(population_size=size, generations=2, max_train_time=30)
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


def test_live_events_stream_from_workers(pool):
    rec = Recorder()
    jobs = tiny_jobs(4, epochs=4, batch_size=8)
    pool.run(jobs, WINE, rec.on_event, rec.on_result, lambda: False)
    assert set(rec.results) == {j.model_id for j in jobs}
    for mid, result in rec.results.items():
        assert result.status == "ok", result.phenotype["reason"]
        assert rec.batches[mid] == result.phenotype["batches_run"] > 0
        epochs = [e for e in rec.events if e["event"] == "epoch" and e["model_id"] == mid]
        assert len(epochs) == 4
    workers = {e["worker"] for e in rec.events if e["event"] == "start"}
    assert workers == {"pool-0", "pool-1"}
    assert {r.phenotype["worker"] for r in rec.results.values()} == workers
    # every model's events come before its result, and results arrive one by one
    assert all(e["event"] != "start" or e.get("pid") for e in rec.events)


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


def test_stop_is_prompt_and_stopped_models_are_not_recorded(pool):
    rec = Recorder()
    stop = threading.Event()
    stopped_at: list[float] = []

    def press_stop(event):
        if event["event"] == "batch" and not stop.is_set():
            stop.set()
            stopped_at.append(time.perf_counter())

    rec.hooks.append(press_stop)
    jobs = tiny_jobs(4, epochs=500, batch_size=4, prefix="s")
    pool.run(jobs, WINE, rec.on_event, rec.on_result, stop.is_set)
    assert time.perf_counter() - stopped_at[0] < 10
    assert len(rec.results) <= 2  # the two queued models never started
    assert {r.status for r in rec.results.values()} <= {"stopped"}
    # the pool is still usable after a stop
    rec2 = Recorder()
    pool.run(tiny_jobs(1, prefix="after"), WINE, rec2.on_event, rec2.on_result, lambda: False)
    assert rec2.results["after000"].status == "ok"


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


def test_same_results_as_one_thread_in_process(pool):
    assert_same_as_one_thread_in_process(pool)


@pytest.mark.slow
def test_cli_workers_flag_uses_a_pool(tmp_path):
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "dlgene_core", "evolve", "--data", "wine", "--out", str(out)]
    cmd += ["--workers", "2", "--generations", "1", "--quiet", "--set", "population_size=3"]
    cmd += ["--set", "max_train_time=20"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    table = Clade.open(out).phenotypes
    assert len(table) == 3 and set(table["status"]) == {"ok"}
    assert all(w.startswith("pool-") for w in table["worker"])


@pytest.mark.slow
def test_memory_stays_flat_over_100_models(pool):
    """Workers are recycled after MAX_MODELS models, so RSS stays bounded."""
    assert_memory_stays_flat(pool, pool.worker_pids, MAX_MODELS)
