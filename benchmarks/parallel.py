"""Serial in-process vs a 2-worker process pool vs a 2-worker Dask LocalCluster.

The same fixed genotypes (models of a few seconds each on digits) grow three ways in one
run. Worker start-up is timed apart from the generation: the fair comparison starts once
the workers are warm, as in a session that reuses its pool. The serial baseline runs in a
subprocess with the same single TF thread the workers use (and as a machine-default
reference, in this process, when --with-default-threads is given).

    python benchmarks/parallel.py            # 8 models
    python benchmarks/parallel.py --quick    # 4 shorter models, a smoke check
    python benchmarks/parallel.py --busy     # + generational vs steady-state busy fraction

``--busy`` grows 3 generations of mixed model sizes (one long model among short ones per
generation, as Reuters' 1-30 s models) on the same warm 2-worker pool: generationally (each
generation a closed job list, the next one starts when its slowest model is done) and
steady-state (one open job feed; every result adds the next model at once), alternated over
repeats. It prints wall times and the workers' busy fractions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from dlgene_core.config import CladeConfig
from dlgene_core.data import DataSpec
from dlgene_core.executors.common import ONE_THREAD_ENV
from dlgene_core.trainer import GrowJob, ModelResult, model_seed

SPEC = DataSpec(name="digits", form="flat")


def fixed_jobs(n: int, epochs: int) -> list[GrowJob]:
    config = CladeConfig.from_preset("classic", max_train_time=120).to_dict()
    jobs = []
    for i in range(n):
        units = (64, 128, 96, 32)[i % 4]
        genotype = {
            "optimizer": ("adam", "rmsprop")[i % 2],
            "learning_rate": 0.003,
            "batch_size": (16, 32)[i % 2],
            "epochs": epochs,
            "layers": [
                {"units": units, "activation": "relu", "regularizer": "none", "reg_value": 0.0},
                {"units": 32, "activation": "tanh", "regularizer": "none", "reg_value": 0.0},
            ],
        }
        mid = f"b{i:02d}"
        jobs.append(GrowJob(mid, 0, "GAFC1", genotype, model_seed(0, mid), config))
    return jobs


_SERIAL = r"""
import json, os, sys, time
os.environ.update(json.loads(sys.argv[1]))
t0 = time.perf_counter()
from dlgene_core.data import DataSpec, load_dataset_cached
from dlgene_core.trainer import GrowJob, grow_one, prepare_tensorflow
prepare_tensorflow(True, threads=1)
payload = json.load(sys.stdin)
dataset = load_dataset_cached(DataSpec.from_dict(payload["spec"]))
startup = time.perf_counter() - t0
t1 = time.perf_counter()
train = sum(grow_one(GrowJob(**j), dataset).phenotype["train_time"] for j in payload["jobs"])
print("RESULT" + json.dumps({"startup": startup, "wall": time.perf_counter() - t1,
                             "train": train}))
"""


def serial_one_thread(jobs: list[GrowJob]) -> dict[str, float]:
    payload = json.dumps({"spec": SPEC.to_dict(), "jobs": [j.to_dict() for j in jobs]})
    out = subprocess.run(
        [sys.executable, "-c", _SERIAL, json.dumps(ONE_THREAD_ENV)],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


def timed_run(executor, jobs: list[GrowJob]) -> dict[str, float]:
    results: list[ModelResult] = []
    events = [0]

    def on_event(event):
        events[0] += event["event"] == "batch"

    started = time.perf_counter()
    executor.run(jobs, SPEC, on_event, results.append, lambda: False)
    wall = time.perf_counter() - started
    bad = [r.model_id for r in results if r.status != "ok"]
    if bad or len(results) != len(jobs):
        raise RuntimeError(f"models not grown ok: {bad or 'missing results'}")
    train = sum(float(r.phenotype["train_time"]) for r in results)
    return {"wall": wall, "train": train, "batch_events": events[0]}


@contextlib.contextmanager
def warm_pool(workers: int) -> Iterator[tuple[Any, float]]:
    """A started pool whose workers have loaded the data, and its start-up seconds."""
    from dlgene_core.executors.pool import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers=workers)
    try:
        startup = pool.wait_ready()
        timed_run(pool, warm_up_jobs(workers))  # load data once per worker
        yield pool, startup
    finally:
        pool.close()


@contextlib.contextmanager
def warm_dask(workers: int) -> Iterator[tuple[Any, float]]:
    """A LocalCluster executor with TF imported and the data loaded on every worker."""
    from distributed import Client, LocalCluster

    from dlgene_core.executors.dask_executor import DaskExecutor

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env=dict(ONE_THREAD_ENV),
    )
    client = Client(cluster)
    try:
        client.wait_for_workers(workers)
        executor = DaskExecutor(client=client, pin_cpus=True)  # as its own LocalCluster does
        timed_run(executor, warm_up_jobs(workers))
        yield executor, time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()


def warm_up_jobs(workers: int) -> list[GrowJob]:
    warm = fixed_jobs(workers, 1)
    for job in warm:
        job.model_id = "warm-" + job.model_id
    return warm


def speedup_rounds(jobs: list[GrowJob], workers: int, repeats: int) -> dict[str, list[dict]]:
    """Serial, pool and Dask in turn, ``repeats`` rounds on warm workers: this machine's
    speed drifts by tens of percent between minutes, so each round's ratios compare runs
    made within a minute of each other, and the medians are over rounds."""
    rows: dict[str, list[dict]] = {}
    with warm_pool(workers) as (pool, pool_start), warm_dask(workers) as (dask, dask_start):
        for _ in range(repeats):
            rows.setdefault("serial (1 TF thread)", []).append(serial_one_thread(jobs))
            pool_row = {"startup": pool_start, **timed_run(pool, jobs)}
            rows.setdefault(f"pool ({workers} workers)", []).append(pool_row)
            dask_row = {"startup": dask_start, **timed_run(dask, jobs)}
            rows.setdefault(f"dask ({workers} workers)", []).append(dask_row)
    return rows


def mixed_generations(generations: int, size: int) -> list[list[GrowJob]]:
    """Generations whose models differ ~10-30x in training time, as Reuters' 1-30 s models
    do: per generation one long model (12 epochs, 256 units) among short ones."""
    config = CladeConfig().updated(max_train_time=120).to_dict()
    blocks = []
    for g in range(generations):
        jobs = []
        for i in range(size):
            long = i == (g * 3) % size  # the long model sits at another place each time
            genotype = {
                "optimizer": "adam",
                "learning_rate": 0.003,
                "batch_size": 32,
                "epochs": 12 if long else 1 + (i % 2),
                "layers": [
                    {"units": 256 if long else 32, "activation": "relu"}
                    | {"regularizer": "none", "reg_value": 0.0}
                ],
            }
            mid = f"g{g}-{i:03d}"
            jobs.append(GrowJob(mid, g, "GAFC1", genotype, model_seed(0, mid), config))
        blocks.append(jobs)
    return blocks


class HeldClock:
    """Seconds each model held a worker, seen from the caller: its start event to its result
    (training plus evaluation, saving and the trip back; idle workers hold nothing)."""

    def __init__(self):
        self.began: dict[str, float] = {}
        self.held = 0.0

    def on_event(self, event) -> None:
        if event["event"] == "start":
            self.began[event["model_id"]] = time.perf_counter()

    def on_result(self, result: ModelResult) -> None:
        self.held += time.perf_counter() - self.began.pop(result.model_id)


def generational(executor, blocks: list[list[GrowJob]]) -> dict[str, float]:
    clock, results = HeldClock(), []

    def on_result(result: ModelResult) -> None:
        clock.on_result(result)
        results.append(result)

    started = time.perf_counter()
    for jobs in blocks:  # each generation waits for its slowest model
        executor.run(jobs, SPEC, clock.on_event, on_result, lambda: False)
    wall = time.perf_counter() - started
    train = sum(float(r.phenotype["train_time"]) for r in results)
    return {"wall": wall, "train": train, "held": clock.held}


def steady_state(executor, blocks: list[list[GrowJob]]) -> dict[str, float]:
    """The same models through one open feed: a result adds the next model at once."""
    from dlgene_core.executors import JobFeed

    queue = [job for jobs in blocks for job in jobs]
    slots = executor.capacity  # every worker busy plus its queued (prefetched) job
    feed = JobFeed.open(queue[:slots])
    rest = iter(queue[slots:])
    results: list[ModelResult] = []
    clock = HeldClock()

    def on_result(result: ModelResult) -> None:
        clock.on_result(result)
        results.append(result)
        job = next(rest, None)
        if job is None:
            feed.close()
        else:
            feed.add(job)

    started = time.perf_counter()
    executor.run(feed, SPEC, clock.on_event, on_result, lambda: False)
    wall = time.perf_counter() - started
    if len(results) != len(queue) or any(r.status != "ok" for r in results):
        raise RuntimeError("steady-state run: models missing or not ok")
    train = sum(float(r.phenotype["train_time"]) for r in results)
    return {"wall": wall, "train": train, "held": clock.held}


def busy_comparison(workers: int, generations: int, size: int, repeats: int = 2) -> None:
    blocks = mixed_generations(generations, size)
    modes = (
        ("generational", generational, 0),
        ("generational+prefetch", generational, 1),
        ("steady-state", steady_state, 0),
        ("steady+prefetch", steady_state, 1),
    )
    rows: dict[str, list[dict]] = {}
    with warm_pool(workers) as (pool, _startup):
        for _ in range(repeats):  # alternated, so a change of machine load hits all
            for name, mode, prefetch in modes:
                pool.prefetch = prefetch
                rows.setdefault(name, []).append(mode(pool, blocks))
    n = generations * size
    print(
        f"\n{generations} generations x {size} mixed models, {workers}-worker pool, "
        f"{repeats} alternated repeats (medians)"
    )
    print(f"{'mode':22} {'wall s':>8} {'sum train s':>11} {'busy (held)':>11} {'busy (train)':>12}")
    medians = {}
    for name, runs in rows.items():
        wall = statistics.median(r["wall"] for r in runs)
        held = statistics.median(r["held"] / (workers * r["wall"]) for r in runs)
        train = statistics.median(r["train"] / (workers * r["wall"]) for r in runs)
        medians[name] = wall
        sum_train = statistics.median(r["train"] for r in runs)
        print(f"{name:22} {wall:8.1f} {sum_train:11.1f} {held:11.3f} {train:12.3f}")
    for name in ("steady-state", "steady+prefetch"):
        ratio = medians["generational"] / medians[name]
        print(f"{name} is {ratio:.2f}x generational (no prefetch) in wall time ({n} models each)")
    print("busy (held) = time a worker holds a model / (workers x wall); busy (train) counts")
    print("only the models' train_time (build + fit), not evaluation, saving and the trip back")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 short models (smoke check)")
    parser.add_argument("--models", type=int, default=None, help="models per run (default 8)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="alternated rounds (default 3)")
    parser.add_argument(
        "--busy", action="store_true", help="also: generational vs steady-state busy fraction"
    )
    parser.add_argument("--busy-only", action="store_true", help="only the busy comparison")
    args = parser.parse_args(argv)
    if args.busy or args.busy_only:
        busy_comparison(args.workers, 3, 6 if args.quick else 8)
        if args.busy_only:
            return 0
    n = args.models or (4 if args.quick else 8)
    epochs = args.epochs or (2 if args.quick else 10)
    if n < 1 or epochs < 1 or args.workers < 1 or args.repeats < 1:
        parser.error("--models, --epochs, --workers and --repeats must be >= 1")
    jobs = fixed_jobs(n, epochs)
    print(
        f"{n} models x {epochs} epochs on digits, {args.workers} workers, "
        f"{os.cpu_count()} cores, {args.repeats} alternated rounds (medians)"
    )
    rows = speedup_rounds(jobs, args.workers, args.repeats)
    serial = rows["serial (1 TF thread)"]
    print(
        f"{'executor':24} {'start-up s':>10} {'wall s':>8} {'sum train s':>11} "
        f"{'speedup':>8} {'bound':>6} {'overhead/model s':>16} {'added/model s':>13}"
    )
    for name, runs in rows.items():
        parallel = 1 if "serial" in name else args.workers
        speedup = statistics.median(
            s["wall"] / r["wall"] for s, r in zip(serial, runs, strict=True)
        )
        overhead = statistics.median((r["wall"] - r["train"] / parallel) / n for r in runs)
        added = statistics.median(
            (r["wall"] - r["train"] / parallel - (s["wall"] - s["train"])) / n
            for s, r in zip(serial, runs, strict=True)
        )
        # the most a perfect executor could reach: workers x how much slower a model trains
        # while the others train beside it (shared caches / SMT siblings on small machines)
        bound = statistics.median(
            parallel * s["train"] / r["train"] for s, r in zip(serial, runs, strict=True)
        )
        wall = statistics.median(r["wall"] for r in runs)
        train = statistics.median(r["train"] for r in runs)
        print(
            f"{name:24} {runs[0]['startup']:10.1f} {wall:8.1f} {train:11.1f} "
            f"{speedup:7.2f}x {bound:5.2f}x {overhead:16.3f} {added:13.3f}"
        )
    print("speedup = serial wall / wall, per round; bound = workers x serial train_time /")
    print("parallel train_time (a model trains slower beside another on shared cores);")
    print("added/model = the executor's overhead per model beyond serial's own")
    print("overhead/model = (wall - sum of train_time / parallel workers) / models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
