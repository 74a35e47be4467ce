"""Fault isolation in the process pool: a killed worker (failed with its exit code, or
retried), the hard wall-clock limit, and a clade generation that survives a dead worker."""

from __future__ import annotations

import os
import signal

import pytest
from executor_helpers import WINE, Recorder, tiny_jobs

from dlgene_core import GAFC1, CladeConfig
from dlgene_core.executors.pool import ProcessPoolExecutor


@pytest.fixture(scope="module")
def pool():
    # hard limit = 1 x max_train_time + 0.3 s: long enough for normal jobs (60 s budget)
    executor = ProcessPoolExecutor(workers=2, hard_timeout_factor=1.0, hard_timeout_grace=0.3)
    executor.wait_ready()
    yield executor
    executor.close()


def _kill_on_first_batch(rec: Recorder, model_id: str, killed: list[int]):
    def hook(event):
        if event["event"] == "batch" and event["model_id"] == model_id and not killed:
            killed.append(rec.pids[model_id])
            os.kill(rec.pids[model_id], signal.SIGKILL)

    return hook


def test_killed_worker_fails_its_model_and_is_replaced(pool):
    rec, killed = Recorder(), []
    rec.hooks.append(_kill_on_first_batch(rec, "k000", killed))
    pool.retries = 0
    jobs = tiny_jobs(3, epochs=30, batch_size=8, prefix="k")
    pool.run(jobs, WINE, rec.on_event, rec.on_result, lambda: False)
    assert killed
    failed = rec.results["k000"].phenotype
    assert failed["status"] == "failed"
    assert failed["reason"] == "worker died: exit code -9 (SIGKILL)"
    assert {rec.results[m].status for m in ("k001", "k002")} == {"ok"}
    pids = pool.worker_pids()
    assert len(pids) == 2 and killed[0] not in pids.values()


def test_killed_worker_retried_once(pool):
    rec, killed = Recorder(), []
    rec.hooks.append(_kill_on_first_batch(rec, "r000", killed))
    pool.retries = 1
    try:
        pool.run(
            tiny_jobs(2, epochs=30, batch_size=8, prefix="r"),
            WINE,
            rec.on_event,
            rec.on_result,
            lambda: False,
        )
    finally:
        pool.retries = 0
    assert killed
    assert rec.results["r000"].status == "ok"
    assert [e["model_id"] for e in rec.events if e["event"] == "retry"] == ["r000"]
    starts = [e for e in rec.events if e["event"] == "start" and e["model_id"] == "r000"]
    assert len(starts) == 2


def test_hard_time_limit_kills_the_worker(pool):
    rec = Recorder()
    # a 0.05 s budget gives a 0.35 s hard limit; building the model and tracing its first
    # batch alone take longer, so the worker is killed and the model recorded as failed
    jobs = tiny_jobs(1, epochs=50, batch_size=4, max_train_time=0.05, prefix="t")
    pool.run(jobs, WINE, rec.on_event, rec.on_result, lambda: False)
    phenotype = rec.results["t000"].phenotype
    assert phenotype["status"] == "failed"
    assert phenotype["reason"].startswith("timed out (killed after")


def test_generation_with_a_killed_worker_is_recorded(pool, tmp_path):
    cfg = CladeConfig().updated(population_size=3, generations=1, max_train_time=60)
    clade = GAFC1(cfg, data="wine", folder=tmp_path / "run")
    clade.load_data()
    clade.spawn()
    victim = clade.genotypes["model_id"].iloc[0]
    pids: dict[str, int] = {}
    killed: list[int] = []

    def listener(event):
        if event["event"] == "start":
            pids[event["model_id"]] = event["pid"]
        if event["event"] == "batch" and event["model_id"] == victim and not killed:
            killed.append(pids[victim])
            os.kill(pids[victim], signal.SIGKILL)

    clade.add_listener(listener)
    clade.grow_models(executor=pool)
    table = clade.generation_phenotypes().set_index("model_id")
    assert len(table) == 3 and clade.progress == (3, 3)
    if killed:  # (a very short model may finish before the kill lands)
        assert table.loc[victim, "status"] == "failed"
        assert "worker died" in table.loc[victim, "reason"]


def test_prefetch_queues_a_job_and_a_killed_worker_gives_it_back(pool):
    """With prefetch=1 each worker holds its next job; a worker killed under k000 gives its
    queued job back to the feed, where the other worker (or the replacement) grows it."""
    rec, killed = Recorder(), []
    rec.hooks.append(_kill_on_first_batch(rec, "q000", killed))
    pool.retries, pool.prefetch = 0, 1
    jobs = tiny_jobs(5, epochs=20, batch_size=8, prefix="q")
    try:
        pool.run(jobs, WINE, rec.on_event, rec.on_result, lambda: False)
    finally:
        pool.prefetch = 0
    assert killed
    assert rec.results["q000"].status == "failed"
    assert sorted(rec.results) == [f"q{i:03d}" for i in range(5)]
    assert {rec.results[f"q{i:03d}"].status for i in range(1, 5)} == {"ok"}
    # a start event is sent when a model begins, not when it is queued: one per model
    starts = [e["model_id"] for e in rec.events if e["event"] == "start"]
    assert sorted(starts) == sorted(rec.results)
    assert pool.capacity == 2  # back to one job per worker
