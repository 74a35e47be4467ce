"""Helpers shared by the executor tests: fixed tiny jobs, an event/result recorder and a
one-thread in-process reference run in a subprocess (the TF thread count changes results)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import psutil

from dlgene_core.config import CladeConfig
from dlgene_core.data import DataSpec
from dlgene_core.trainer import GrowJob, ModelResult, model_seed

WINE = DataSpec(name="wine", form="flat")


def tiny_jobs(
    n: int,
    epochs: int = 3,
    batch_size: int = 16,
    units: int = 16,
    max_train_time: float = 60.0,
    prefix: str = "m",
    generation: int = 0,
) -> list[GrowJob]:
    config = CladeConfig().updated(max_train_time=max_train_time).to_dict()
    genotype = {
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": batch_size,
        "epochs": epochs,
        "layers": [{"units": units, "activation": "relu", "regularizer": "none", "reg_value": 0.0}],
    }
    return [
        GrowJob(
            model_id=f"{prefix}{i:03d}",
            generation=generation,
            kind="GAFC1",
            genotype=dict(genotype),
            seed=model_seed(0, f"{prefix}{i:03d}"),
            config=config,
        )
        for i in range(n)
    ]


class Recorder:
    """Collects what an executor reports, as the clade would."""

    def __init__(self):
        self.events: list[dict[str, Any]] = []
        self.results: dict[str, ModelResult] = {}
        self.batches: Counter = Counter()
        self.pids: dict[str, int] = {}
        self.hooks: list = []
        self.order: defaultdict = defaultdict(list)

    def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event["event"] == "batch":
            self.batches[event["model_id"]] += 1
        if event["event"] == "start" and event.get("pid"):
            self.pids[event["model_id"]] = int(event["pid"])
        for hook in self.hooks:
            hook(event)

    def on_result(self, result: ModelResult) -> None:
        self.results[result.model_id] = result


_REFERENCE = r"""
import json, os, sys
os.environ.update({"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                   "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"})
from dlgene_core.data import DataSpec, load_dataset_cached
from dlgene_core.trainer import GrowJob, grow_one, prepare_tensorflow
prepare_tensorflow(True, threads=1)
payload = json.load(sys.stdin)
dataset = load_dataset_cached(DataSpec.from_dict(payload["spec"]))
rows = [grow_one(GrowJob(**j), dataset).phenotype for j in payload["jobs"]]
print("RESULT" + json.dumps([{k: v for k, v in r.items() if k != "traceback"} for r in rows]))
"""


def grow_in_one_thread_subprocess(jobs: list[GrowJob], spec: DataSpec) -> dict[str, dict]:
    """Phenotypes of the jobs grown in-process in a fresh one-thread TF process."""
    payload = json.dumps({"spec": spec.to_dict(), "jobs": [j.to_dict() for j in jobs]})
    out = subprocess.run(
        [sys.executable, "-c", _REFERENCE],
        input=payload,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ},
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    return {row["model_id"]: row for row in json.loads(line[len("RESULT") :])}


METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy")


def assert_same_as_one_thread_in_process(executor) -> None:
    """Two deterministic jobs grown by ``executor`` match a 1-thread in-process run."""
    import numpy as np

    jobs = tiny_jobs(2, epochs=5, batch_size=8, prefix="same")
    jobs[1].genotype["layers"][0]["units"] = 40
    jobs[1].genotype["optimizer"] = "sgd"
    rec = Recorder()
    executor.run(jobs, WINE, rec.on_event, rec.on_result, lambda: False)
    reference = grow_in_one_thread_subprocess(jobs, WINE)
    for job in jobs:
        mine, ref = rec.results[job.model_id].phenotype, reference[job.model_id]
        assert mine["status"] == ref["status"] == "ok"
        for metric in METRICS:
            np.testing.assert_allclose(mine[metric], ref[metric], rtol=1e-5, atol=1e-6)
        assert mine["n_params"] == ref["n_params"]
        assert mine["batches_run"] == ref["batches_run"]


def rss_mib(pids: dict[str, int]) -> dict[str, float]:
    """Resident memory of each live worker process, MiB."""
    sizes = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.NoSuchProcess):
            sizes[f"{name}:{pid}"] = psutil.Process(pid).memory_info().rss / 2**20
    return sizes


def assert_memory_stays_flat(
    executor, worker_pids: Callable[[], dict[str, int]], max_models: int, n: int = 104
) -> None:
    """Grow n tiny models in four "generations" on one executor: workers are replaced
    after max_models models, so their RSS stays under warm + max_models x 15 MiB + slack
    (TF keeps ~13 MiB a model in a process even after clear_session)."""
    samples: list[dict[str, float]] = []
    rec = Recorder()

    def on_result(result: ModelResult) -> None:
        rec.on_result(result)
        samples.append(rss_mib(worker_pids()))

    pids_before = set(worker_pids().values())
    for gen in range(4):
        jobs = tiny_jobs(n // 4, epochs=1, batch_size=32, prefix=f"mem{gen}-", generation=gen)
        executor.run(jobs, WINE, rec.on_event, on_result, lambda: False)
    assert len(rec.results) == n and {r.status for r in rec.results.values()} == {"ok"}
    assert set(worker_pids().values()) - pids_before  # recycled at least once
    assert len(set(rec.pids.values())) > len(pids_before)  # models ran on the new ones
    warm = max(samples[4].values())  # TF imported, data loaded, a few models grown
    peak = max(max(s.values()) for s in samples if s)
    last = max(samples[-1].values())
    bound = warm + max_models * 15 + 150
    print(f"worker RSS MiB: warm {warm:.0f}, peak {peak:.0f}, end {last:.0f}, bound {bound:.0f}")
    assert peak < bound
    assert last < bound
    assert os.getpid() not in worker_pids().values()
