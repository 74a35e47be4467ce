"""DaskExecutor: grow models on any Dask cluster (LocalCluster, SSH, Kubernetes, HPC).

Each model is one task. Workers stream their batch/epoch events in chunks through the
scheduler's event log (``Worker.log_event`` -> ``Client.subscribe_topic``); the handler
only queues them, and the caller's thread (the one in ``run``) passes them to ``on_event``.
Results reach ``on_result`` as each task finishes. A task whose worker died comes back as
``KilledWorker`` (after the scheduler's own ``allowed-failures`` retries): the model is
tried again ``retries`` times, then recorded as failed with the reason. Stop requests go
through a ``distributed.Event`` that the task's ``should_stop`` reads (throttled).

Memory: TensorFlow keeps ~13 MiB per model in a process even after ``clear_session``, so a
worker that has grown ``max_models_per_worker`` models is restarted through its nanny
between two of its models. To make that safe, no more tasks are in flight than the
cluster has threads: a worker that finishes a model then holds none of ours.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import time
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any

from ..data import DataSpec
from ..trainer import GrowJob, ModelResult
from .base import EventCallback, Executor, ResultCallback, StopCheck
from .common import (
    ONE_THREAD_ENV,
    EventBuffer,
    check_int,
    check_positive,
    failed_result,
    hard_time_limit,
    worker_env,
)

_DONE = "_done"  # a task's last event: everything it logged before has been sent


class _SeedBoth:
    """Stands in for the ``random`` module inside Keras' ``set_random_seed``: seeding it
    seeds the global ``random`` and Keras' private generator alike."""

    def __init__(self, private: random.Random):
        self._private = private

    def seed(self, value=None, version: int = 2) -> None:
        random.seed(value, version)
        self._private.seed(value, version)

    def __getattr__(self, name: str):
        return getattr(random, name)


def _isolate_keras_seeds() -> None:
    """Give Keras' default weight seeds their own generator in this worker process.

    Keras draws a seed for every unseeded initializer from the process-wide ``random``
    module; a Dask worker's event-loop thread draws from it too (jitter, retries), so the
    same job could get different initial weights. With a private generator, seeded by
    ``keras.utils.set_random_seed``, Dask results match the pool's and in-process ones."""
    try:
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils
    except ImportError:  # another Keras layout: keep its behaviour
        return
    if isinstance(getattr(rng_utils, "random", None), _SeedBoth):
        return
    private = random.Random()
    if hasattr(seed_generator, "python_random") and hasattr(rng_utils, "random"):
        seed_generator.python_random = private
        rng_utils.random = _SeedBoth(private)


_PINNED: list[int] = []


def _pin_worker(index: int) -> None:
    """Pin this worker process to one core (a LocalCluster with a worker per core)."""
    from .pool import _available_cpus, _pin

    cpus = _available_cpus()
    if cpus:
        _pin(str(cpus[index % len(cpus)]))
        _PINNED.append(index)


def _threads(client) -> int:
    """Threads in the cluster now (tasks that can run at once)."""
    try:
        return int(sum(client.nthreads().values()))
    except Exception:  # scheduler busy: keep at least one task in flight
        return 1


def _grow_on_worker(
    job: GrowJob,
    spec: dict[str, Any],
    topic: str,
    stop_name: str,
    event_interval: float,
    pin: bool = False,
) -> ModelResult:
    """The task: grow one model on a Dask worker (data loaded once per worker process)."""
    for key, value in ONE_THREAD_ENV.items():  # only matters before TF initialises here
        os.environ.setdefault(key, value)
    from distributed import Event, get_worker

    from ..data import load_dataset_cached
    from ..trainer import grow_one, prepare_tensorflow

    prepare_tensorflow(deterministic=False, threads=1)
    _isolate_keras_seeds()
    worker = get_worker()
    if pin and isinstance(worker.name, int) and not _PINNED:
        _pin_worker(worker.name)
    name = f"dask-{worker.name}"
    stop = Event(stop_name)
    state = {"checked": 0.0, "stop": False}

    def should_stop() -> bool:  # a scheduler round trip: at most 4 a second
        now = time.monotonic()
        if now - state["checked"] >= 0.25:
            state["checked"] = now
            with contextlib.suppress(Exception):  # scheduler busy or gone: keep training
                state["stop"] = bool(stop.is_set())
        return state["stop"]

    buffer = EventBuffer(lambda chunk: worker.log_event(topic, {"events": chunk}), event_interval)
    buffer(
        {
            "event": "start",
            "model_id": job.model_id,
            "worker": name,
            "address": worker.address,
            "pid": os.getpid(),
        }
    )
    buffer.flush()
    try:
        dataset = load_dataset_cached(DataSpec.from_dict(spec))
        result = grow_one(job, dataset, listener=buffer, should_stop=should_stop, worker=name)
    except Exception as exc:  # data that will not load: the model fails
        result = failed_result(job, f"{type(exc).__name__}: {exc}"[:500], name)
    buffer({"event": _DONE, "model_id": job.model_id})
    buffer.flush()
    return result


class DaskExecutor(Executor):
    """Grow models as tasks on a Dask cluster.

    client: a ``distributed.Client`` (not closed by ``close``); or address: a scheduler
    address to connect to; or neither: a LocalCluster with one single-threaded worker
    process per core is started on first use (and closed by ``close``). retries: times a
    model whose worker died is tried again. hard_timeout_factor / grace: a task running
    longer than factor x max_train_time + grace is abandoned and its worker restarted.
    pin_cpus: pin worker process ``name`` (an int, as in a LocalCluster) to core
    ``name % cores`` on its first task; default: only for the LocalCluster made here.
    max_models_per_worker: restart a worker (through its nanny) after this many models, so
    memory stays flat; tasks are then submitted as threads free up. None: never restart
    and submit every task at once (for adaptive clusters that scale on the queue).
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        client: Any = None,
        retries: int = 0,
        event_interval: float = 0.1,
        hard_timeout_factor: float = 2.0,
        hard_timeout_grace: float = 60.0,
        stop_grace: float = 30.0,
        n_workers: int | None = None,
        pin_cpus: bool | None = None,
        max_models_per_worker: int | None = 50,
    ):
        if address is not None and not isinstance(address, str):
            raise ValueError(f"address={address!r}: allowed a scheduler address string or None")
        if address and client is not None:
            raise ValueError(f"address={address!r} and client: give one of them, not both")
        check_int("retries", retries, 0, "an int >= 0")
        check_positive("event_interval", event_interval, "a number of seconds > 0")
        check_positive("hard_timeout_factor", hard_timeout_factor, "a number >= 1", 0.999)
        check_positive("hard_timeout_grace", hard_timeout_grace, "a number of seconds > 0")
        check_positive("stop_grace", stop_grace, "a number of seconds > 0")
        check_int("n_workers", n_workers, 1, "None (one per core) or an int >= 1", optional=True)
        check_int(
            "max_models_per_worker",
            max_models_per_worker,
            1,
            "None (never restart workers) or an int >= 1",
            optional=True,
        )
        self.max_models_per_worker = max_models_per_worker
        self.restarts = 0  # workers restarted to keep memory flat (all runs)
        self._models_on: dict[str, int] = {}  # worker address -> models (across runs)
        self._no_nanny: set[str] = set()
        self.address = address or None
        self.retries = retries
        self.event_interval = float(event_interval)
        self.hard_timeout_factor = float(hard_timeout_factor)
        self.hard_timeout_grace = float(hard_timeout_grace)
        self.stop_grace = float(stop_grace)
        self.n_workers = n_workers
        # pin each worker process to a core: default only on the LocalCluster made here
        self.pin_cpus = bool(client is None and not address) if pin_cpus is None else pin_cpus
        self._client = client
        self._owns_client = client is None
        self._cluster = None

    # ------------------------------------------------------------------ connection
    @property
    def client(self):
        """The Client, connecting (or starting a LocalCluster) on first use."""
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.address:
                self._client = _connect(Client, self.address)
            else:
                import dask

                with dask.config.set({"distributed.scheduler.allowed-failures": self.retries}):
                    self._cluster = LocalCluster(
                        n_workers=self.n_workers or os.cpu_count() or 1,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        env=worker_env(),
                    )
                self._client = Client(self._cluster)
        return self._client

    def close(self) -> None:
        """Close the client and cluster this executor made (a given client stays open)."""
        if not self._owns_client:
            return
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    # ------------------------------------------------------------------ run
    def run(
        self,
        jobs: Sequence[GrowJob],
        spec: DataSpec,
        on_event: EventCallback,
        on_result: ResultCallback,
        should_stop: StopCheck,
    ) -> None:
        if not jobs:
            return
        from distributed import Event

        client = self.client
        self._deaths: dict[str, int] = {}  # model_id -> workers that died growing it
        self._requeued: dict[str, int] = {}  # model_id -> times it was queued on a dead one
        token = uuid.uuid4().hex[:12]
        topic, stop_name = f"dlgene-events-{token}", f"dlgene-stop-{token}"
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        client.subscribe_topic(topic, lambda event: inbox.put(event[1]))
        stop_event = Event(stop_name, client=client)
        spec_dict = spec.to_dict()
        pending: dict[Any, GrowJob] = {}
        attempts: dict[str, int] = {}
        started: dict[str, tuple[float, str]] = {}  # model_id -> (monotonic, worker address)
        done_ids: set[str] = set()  # models whose task returned (their _done event is due)
        seen_done: set[str] = set()
        waiting = deque(jobs)
        threads = {"n": 1, "checked": -1.0}  # the cluster's threads, asked at most once a second

        def submit(job: GrowJob) -> None:
            attempts[job.model_id] = attempts.get(job.model_id, 0) + 1
            started.pop(job.model_id, None)  # a new attempt: its time limit starts afresh
            key = f"dlgene-grow-{job.model_id}-{token}-{attempts[job.model_id]}"
            future = client.submit(
                _grow_on_worker,
                job,
                spec_dict,
                topic,
                stop_name,
                self.event_interval,
                self.pin_cpus,
                key=key,
                pure=False,
            )
            pending[future] = job

        def drain() -> None:
            while True:
                try:
                    message = inbox.get_nowait()
                except queue.Empty:
                    return
                for event in message.get("events", []):
                    if event.get("event") == _DONE:
                        seen_done.add(event["model_id"])
                        continue
                    if event.get("event") == "start":
                        started[event["model_id"]] = (time.monotonic(), event.get("address", ""))
                    on_event(event)

        def fill() -> None:
            """Submit waiting jobs: all at once, or as threads free up when recycling."""
            if not waiting:
                return
            if self.max_models_per_worker is None:
                slots = len(pending) + len(waiting)
            else:
                now = time.monotonic()
                if now - threads["checked"] >= 1.0:  # a scheduler round trip: not every tick
                    threads["n"], threads["checked"] = _threads(client), now
                slots = threads["n"]
            while waiting and len(pending) < max(1, slots):
                submit(waiting.popleft())

        stopping, stop_since = False, 0.0
        try:
            fill()
            while pending or waiting:
                drain()
                now = time.monotonic()
                if not stopping and should_stop():
                    stopping, stop_since = True, now
                    stop_event.set()
                    waiting.clear()  # never begun: grown again on resume
                    for future, job in list(pending.items()):
                        if job.model_id not in started:  # not begun: grown again on resume
                            future.cancel()
                            del pending[future]
                if stopping and now - stop_since > self.stop_grace:
                    for future in list(pending):
                        future.cancel()
                    pending.clear()
                for future, job in list(pending.items()):
                    if future.done():
                        del pending[future]
                        result = self._outcome(future, job, started, stopping, submit)
                        if result is not None:
                            done_ids.add(job.model_id)
                            on_result(result)
                            drain()  # its last events before another worker's restart
                            address = started.get(job.model_id, (0.0, ""))[1]
                            self._recycle(client, address, pending, started)
                    elif job.model_id in started:
                        self._check_time_limit(client, future, job, started, pending, on_result)
                if not stopping:
                    fill()
                time.sleep(0.05)
            deadline = time.monotonic() + 2.0  # let the last event chunks catch up
            while not done_ids <= seen_done and time.monotonic() < deadline:
                time.sleep(0.05)
                drain()
            drain()
        finally:
            for future in pending:
                future.cancel()
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(topic)

    def _recycle(self, client, address: str, pending, started) -> None:
        """Restart a worker that has grown its share of models, once it holds none of ours."""
        if not address or self.max_models_per_worker is None or address in self._no_nanny:
            return
        models_on = self._models_on
        models_on[address] = models_on.get(address, 0) + 1
        if models_on[address] < self.max_models_per_worker:
            return
        if any(started.get(j.model_id, (0.0, ""))[1] == address for j in pending.values()):
            return  # one of ours runs there: try again after it
        try:
            if client.processing([address]).get(address):
                return  # another client's task, or one of ours not begun yet
            worker = client.scheduler_info(n_workers=-1)["workers"].get(address, {})
            if not worker.get("nanny"):
                self._no_nanny.add(address)  # restarting would remove it for good
                return
            client.restart_workers([address], raise_for_error=False)
        except Exception:  # scheduler busy or worker gone: its memory is not ours to lose
            return
        models_on.pop(address, None)
        self.restarts += 1

    def _outcome(self, future, job: GrowJob, started, stopping: bool, submit):
        """The ModelResult of a finished task, or None when it is retried or was cancelled."""
        from distributed import KilledWorker

        if future.status == "finished":
            return future.result()
        if future.status == "cancelled":
            return None if stopping else failed_result(job, "task cancelled", "dask")
        exc = future.exception()
        if isinstance(exc, KilledWorker):
            reason = f"worker died: KilledWorker ({exc})"[:500]
            deaths = self._deaths.get(job.model_id, 0)
            if stopping:
                return None if job.model_id not in started else failed_result(job, reason, "dask")
            requeued = self._requeued.get(job.model_id, 0)
            if job.model_id not in started and requeued < 3:
                # only queued on the dead worker, never began: not its fault, go again
                self._requeued[job.model_id] = requeued + 1
                submit(job)
                return None
            self._deaths[job.model_id] = deaths + 1
            if deaths < self.retries:
                submit(job)
                return None
            return failed_result(job, reason, "dask")
        return failed_result(job, f"{type(exc).__name__}: {exc}"[:500], "dask")

    def _check_time_limit(self, client, future, job, started, pending, on_result) -> None:
        began, address = started[job.model_id]
        elapsed = time.monotonic() - began
        if elapsed <= hard_time_limit(job, self.hard_timeout_factor, self.hard_timeout_grace):
            return
        future.cancel()
        pending.pop(future, None)
        reason = f"timed out (abandoned after {elapsed:.0f} s)"
        if address:
            try:  # the task's thread cannot be interrupted: restart its worker process
                client.restart_workers([address], raise_for_error=False)
                reason = f"timed out (worker restarted after {elapsed:.0f} s)"
            except Exception:
                pass
        on_result(failed_result(job, reason, "dask", elapsed))


CONNECT_TIMEOUT_S = 10


def _connect(client_class, address: str):
    """A Client for a running scheduler, or a ConfigError naming the address within 10 s."""
    from ..errors import ConfigError

    try:
        return client_class(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(
            "scheduler",
            address,
            f"the address of a running Dask scheduler; none answered within "
            f"{CONNECT_TIMEOUT_S} s ({type(exc).__name__}: {exc})",
        ) from None
