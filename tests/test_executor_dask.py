"""The Dask executor beyond the executor contract (test_executor_contract.py), on the
session's LocalCluster (conftest.py): resolving a Client, resume across executors, the
CLI's --scheduler, a killed worker, worker restarts and flat memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from executor_helpers import (
    WINE,
    Recorder,
    assert_memory_stays_flat,
    tiny_jobs,
)

from dlgene_core import GAFC1, Clade, CladeConfig
from dlgene_core.executors import resolve_executor
from dlgene_core.executors.dask_executor import DaskExecutor

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def executor(client):
    return DaskExecutor(client=client)


def test_resolve_a_client_and_bad_arguments(client):
    runner = resolve_executor(client, CladeConfig())
    assert isinstance(runner, DaskExecutor) and runner.client is client
    with pytest.raises(ValueError, match="retries=-2"):
        DaskExecutor(retries=-2)
    with pytest.raises(ValueError, match="address=5"):
        DaskExecutor(address=5)
    with pytest.raises(ValueError, match="max_models_per_worker=0"):
        DaskExecutor(max_models_per_worker=0)


def test_resume_in_process_run_on_dask(client, tmp_path):
    cfg = CladeConfig().updated(population_size=4, generations=1)  # default 120 s cap
    clade = GAFC1(cfg, data="wine", folder=tmp_path / "run")
    clade.load_data()
    clade.spawn()
    ids = list(clade.genotypes["model_id"])
    clade.grow_models(executor="inprocess", model_ids=ids[:2])
    reopened = Clade.open(tmp_path / "run")
    reopened.load_data()
    reopened.grow_models(executor=client)  # a Client picks the Dask executor
    table = reopened.generation_phenotypes().set_index("model_id")
    assert sorted(table.index) == sorted(ids) and set(table["status"]) == {"ok"}
    assert set(table.loc[ids[:2], "worker"]) == {"main"}
    assert all(w.startswith("dask-") for w in table.loc[ids[2:], "worker"])
    assert client.status == "running"  # the clade does not close a client it was given


@pytest.mark.slow
def test_cli_scheduler_flag(client, tmp_path):
    out = tmp_path / "cli"
    address = client.scheduler.address
    cmd = [sys.executable, "-m", "dlgene_core", "evolve", "--data", "wine", "--out", str(out)]
    cmd += ["--scheduler", address, "--generations", "1", "--quiet"]
    cmd += ["--set", "population_size=2"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    table = Clade.open(out).phenotypes
    assert len(table) == 2 and all(w.startswith("dask-") for w in table["worker"])


def test_killed_dask_worker_fails_its_model_and_the_run_goes_on(client, executor):
    rec = Recorder()
    killed: list[int] = []

    def kill_first(event):
        if event["event"] == "batch" and event["model_id"] == "k000" and not killed:
            killed.append(rec.pids["k000"])
            os.kill(rec.pids["k000"], signal.SIGKILL)

    rec.hooks.append(kill_first)
    jobs = tiny_jobs(3, epochs=30, batch_size=8, prefix="k")
    executor.run(jobs, WINE, rec.on_event, rec.on_result, lambda: False)
    assert killed
    assert set(rec.results) == {"k000", "k001", "k002"}
    failed = rec.results["k000"].phenotype
    assert failed["status"] == "failed" and "worker died" in failed["reason"]
    assert {rec.results[m].status for m in ("k001", "k002")} == {"ok"}
    client.wait_for_workers(2, timeout=120)  # the nanny replaced the worker


def _worker_pids(client) -> dict[str, int]:
    found = client.run(os.getpid, on_error="return")  # a worker restarting: left out
    return {address: pid for address, pid in found.items() if isinstance(pid, int)}


def test_workers_restart_after_their_share_of_models(client):
    runner = DaskExecutor(client=client, max_models_per_worker=2)
    rec = Recorder()
    jobs = tiny_jobs(6, epochs=2, batch_size=16, prefix="r")
    runner.run(jobs, WINE, rec.on_event, rec.on_result, lambda: False)
    assert set(rec.results) == {j.model_id for j in jobs}
    assert {r.status for r in rec.results.values()} == {"ok"}
    assert runner.restarts >= 2  # each worker at least once
    assert len(set(rec.pids.values())) >= 3  # later models ran in the fresh processes
    client.wait_for_workers(2, timeout=120)
    assert len(_worker_pids(client)) == 2  # the cluster kept its size


@pytest.mark.slow
def test_memory_stays_flat_over_100_models(client):
    runner = DaskExecutor(client=client, max_models_per_worker=40)
    assert_memory_stays_flat(runner, lambda: _worker_pids(client), 40)


def test_no_restart_when_the_cluster_checks_for_the_last_one(monkeypatch):
    """A SpecCluster checks, the lost-worker timeout (15 s) after each removal, that a worker
    of that name is back, and closes its nanny if not: a second restart of ours under way
    then would lose the worker for good, so the executor waits through that window."""
    import dask

    from dlgene_core.executors import dask_executor

    clock = [100.0]
    monkeypatch.setattr(dask_executor.time, "monotonic", lambda: clock[0])
    restarted = []

    class FakeClient:
        def restart_workers(self, addresses, raise_for_error=True):
            restarted.append(list(addresses))

    ex = DaskExecutor(address="tcp://127.0.0.1:1")  # not connected: only the bookkeeping
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "15s"}):
        ex.restart(FakeClient(), "tcp://10.0.0.1:4000", "w0")
        assert restarted == [["tcp://10.0.0.1:4000"]]
        seen = {}
        for t in (101.0, 104.9, 105.0, 110.0, 116.9, 117.1, 130.0):
            clock[0] = t
            seen[t] = ex.restart_would_be_lost("w0")
        assert not ex.restart_would_be_lost("w1")  # another worker: never restarted
    assert seen == {101.0: False, 104.9: False, 105.0: True, 110.0: True, 116.9: True,
                    117.1: False, 130.0: False}  # fmt: skip
    assert ex._restarted_at["w0"] == []  # old restarts are forgotten
