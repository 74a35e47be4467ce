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
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..data import DataSpec
from ..events import start_event
from ..records import GrowJob, ModelResult
from .base import EventCallback, Executor, Jobs, ResultCallback, StopCheck
from .common import (
    ONE_THREAD_ENV,
    EventBuffer,
    check_int,
    check_positive,
    failed_result,
    hard_time_limit,
    worker_env,
)
from .feed import JobFeed, as_feed
from .placement import pin_to_slot

_DONE = "_done"  # a task's last event: everything it logged before has been sent


_PINNED: list[int] = []
RESTART_MARGIN = 10.0  # seconds a restart may take, on top of the lost-worker timeout


def _lost_worker_timeout() -> float:
    """How long a SpecCluster (LocalCluster) waits after a worker's removal before it
    closes that worker's nanny for good, unless a worker of the same name is back."""
    import dask
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.deploy.lost-worker-timeout")))


def _pin_worker(index: int) -> None:
    """Pin this worker process to one core (a LocalCluster with a worker per core)."""
    if pin_to_slot(index):
        _PINNED.append(index)


def _threads(client) -> int:
    """Threads in the cluster now (tasks that can run at once)."""
    try:
        return int(sum(client.nthreads().values()))
    except Exception:  # scheduler busy: keep at least one task in flight
        return 1


def _stop_checker(stop: Any) -> Any:
    """``should_stop`` for a worker: the cluster-wide stop event, read at most 4 times a
    second (each read is a scheduler round trip)."""
    state = {"checked": 0.0, "stop": False}

    def should_stop() -> bool:
        now = time.monotonic()
        if now - state["checked"] >= 0.25:
            state["checked"] = now
            with contextlib.suppress(Exception):  # scheduler busy or gone: keep training
                state["stop"] = bool(stop.is_set())
        return state["stop"]

    return should_stop


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

    prepare_tensorflow(deterministic=False, threads=1)  # isolates Keras' seeds too
    worker = get_worker()
    if pin and isinstance(worker.name, int) and not _PINNED:
        _pin_worker(worker.name)
    name = f"dask-{worker.name}"
    should_stop = _stop_checker(Event(stop_name))
    buffer = EventBuffer(lambda chunk: worker.log_event(topic, {"events": chunk}), event_interval)
    buffer(start_event(job.model_id, name, address=worker.address, pid=os.getpid()))
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
    prefetch: tasks submitted beyond the cluster's threads while recycling, so a worker
    has its next model queued when it returns a result.
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
        prefetch: int = 0,
        max_models_per_worker: int | None = 50,
    ):
        if address is not None and not isinstance(address, str):
            raise ValueError(f"address={address!r}: allowed a scheduler address string or None")
        if address and client is not None:
            raise ValueError(f"address={address!r} and client: give one of them, not both")
        check_int("retries", retries, 0, "an int >= 0")
        check_int("prefetch", prefetch, 0, "an int >= 0")
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
        self._restarted_at: dict[str, list[float]] = {}  # worker name -> our restarts
        self.address = address or None
        self.retries = retries
        self.prefetch = prefetch
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
    @property
    def slots(self) -> int:  # type: ignore[override]
        """Threads of the cluster: tasks that run at once (1 before it is reachable)."""
        return _threads(self.client)

    def run(
        self,
        jobs: Jobs,
        spec: DataSpec,
        on_event: EventCallback,
        on_result: ResultCallback,
        should_stop: StopCheck,
    ) -> None:
        feed = as_feed(jobs)
        if feed.exhausted:
            return
        run = _DaskRun(self, self.client, feed, spec.to_dict(), on_event, on_result)
        try:
            run.loop(should_stop)
        finally:
            run.finish()

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
            name = str(worker.get("name", address))
            if self.restart_would_be_lost(name):
                return  # try again after its next model
            self.restart(client, address, name)
        except Exception:  # scheduler busy or worker gone: its memory is not ours to lose
            return
        models_on.pop(address, None)
        self.restarts += 1

    def restart_would_be_lost(self, name: str) -> bool:
        """Whether a restart of worker ``name`` now could lose it for good: a SpecCluster
        checks, the lost-worker timeout after each removal, that a worker of that name is
        back, and closes its nanny if not; a second restart under way just then (one of
        ours, ``RESTART_MARGIN`` s at most) looks like a worker that never came back."""
        now, timeout = time.monotonic(), _lost_worker_timeout()
        times = [t for t in self._restarted_at.get(name, []) if now <= t + timeout + 2.0]
        self._restarted_at[name] = times
        return any(t + timeout - RESTART_MARGIN <= now for t in times)

    def restart(self, client, address: str, name: str | None = None) -> None:
        """Restart the worker at ``address`` through its nanny, noting when (by name)."""
        if name is None:
            worker = client.scheduler_info(n_workers=-1)["workers"].get(address, {})
            name = str(worker.get("name", address))
        self._restarted_at.setdefault(name, []).append(time.monotonic())
        client.restart_workers([address], raise_for_error=False)


@dataclass
class _DaskRun:
    """The state of one ``DaskExecutor.run``: futures in flight, attempts, start times,
    and the events topic; each step of the loop is one small method."""

    executor: DaskExecutor
    client: Any
    feed: JobFeed
    spec: dict[str, Any]
    on_event: EventCallback
    on_result: ResultCallback
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    pending: dict[Any, GrowJob] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    started: dict[str, tuple[float, str]] = field(default_factory=dict)  # -> (t, address)
    done_ids: set[str] = field(default_factory=set)  # returned: their _done event is due
    seen_done: set[str] = field(default_factory=set)
    deaths: dict[str, int] = field(default_factory=dict)  # workers that died growing it
    requeued: dict[str, int] = field(default_factory=dict)  # queued on a dead one
    threads: int = 1
    threads_checked: float = -1.0  # the cluster's threads, asked at most once a second
    stopping: bool = False
    stop_since: float = 0.0

    def __post_init__(self) -> None:
        from distributed import Event

        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.topic = f"dlgene-events-{self.token}"
        self.stop_name = f"dlgene-stop-{self.token}"
        self.client.subscribe_topic(self.topic, lambda event: self.inbox.put(event[1]))
        self.stop_event = Event(self.stop_name, client=self.client)

    # ------------------------------------------------------------------ the loop
    def loop(self, should_stop: StopCheck) -> None:
        self.fill()
        while self.pending or not (self.stopping or self.feed.exhausted):
            self.drain()
            if not self.stopping and should_stop():
                self.stop()
            if self.stopping and time.monotonic() - self.stop_since > self.executor.stop_grace:
                for future in list(self.pending):
                    future.cancel()
                self.pending.clear()
            self.collect()
            if not self.stopping:
                self.fill()
            time.sleep(0.05)
        self.catch_up_events()

    def submit(self, job: GrowJob) -> None:
        mid = job.model_id
        self.attempts[mid] = self.attempts.get(mid, 0) + 1
        self.started.pop(mid, None)  # a new attempt: its time limit starts afresh
        future = self.client.submit(
            _grow_on_worker,
            job,
            self.spec,
            self.topic,
            self.stop_name,
            self.executor.event_interval,
            self.executor.pin_cpus,
            key=f"dlgene-grow-{mid}-{self.token}-{self.attempts[mid]}",
            pure=False,
        )
        self.pending[future] = job

    def drain(self) -> None:
        """Pass the events that arrived to ``on_event`` (in the caller's thread)."""
        while True:
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                return
            for event in message.get("events", []):
                if event.get("event") == _DONE:
                    self.seen_done.add(event["model_id"])
                    continue
                if event.get("event") == "start":
                    self.started[event["model_id"]] = (time.monotonic(), event.get("address", ""))
                self.on_event(event)

    def fill(self) -> None:
        """Submit queued jobs: all at once, or as threads free up when recycling."""
        if self.executor.max_models_per_worker is None:
            slots = len(self.pending) + len(self.feed)
        else:
            now = time.monotonic()
            if now - self.threads_checked >= 1.0:  # a scheduler round trip: not every tick
                self.threads, self.threads_checked = _threads(self.client), now
            slots = self.threads * (1 + self.executor.prefetch)
        while len(self.pending) < max(1, slots):
            job = self.feed.take()
            if job is None:
                return
            self.submit(job)

    def stop(self) -> None:
        """Tell running tasks to stop; drop the ones not begun (grown again on resume)."""
        self.stopping, self.stop_since = True, time.monotonic()
        self.stop_event.set()
        self.feed.drop_queued()
        for future, job in list(self.pending.items()):
            if job.model_id not in self.started:
                future.cancel()
                del self.pending[future]

    def collect(self) -> None:
        """Hand finished tasks' results on; enforce the hard time limit on running ones."""
        for future, job in list(self.pending.items()):
            if future.done():
                del self.pending[future]
                result = self.outcome(future, job)
                if result is not None:
                    self.done_ids.add(job.model_id)
                    self.on_result(result)
                    self.drain()  # its last events before another worker's restart
                    address = self.started.get(job.model_id, (0.0, ""))[1]
                    self.executor._recycle(self.client, address, self.pending, self.started)
            elif job.model_id in self.started:
                self.check_time_limit(future, job)

    def outcome(self, future, job: GrowJob) -> ModelResult | None:
        """The ModelResult of a finished task, or None when it is retried or was cancelled."""
        from distributed import KilledWorker

        if future.status == "finished":
            return future.result()
        if future.status == "cancelled":
            return None if self.stopping else failed_result(job, "task cancelled", "dask")
        exc = future.exception()
        if not isinstance(exc, KilledWorker):
            return failed_result(job, f"{type(exc).__name__}: {exc}"[:500], "dask")
        reason = f"worker died: KilledWorker ({exc})"[:500]
        mid = job.model_id
        if self.stopping:
            return None if mid not in self.started else failed_result(job, reason, "dask")
        requeued = self.requeued.get(mid, 0)
        if mid not in self.started and requeued < 3:
            # only queued on the dead worker, never began: not its fault, go again
            self.requeued[mid] = requeued + 1
            self.submit(job)
            return None
        deaths = self.deaths.get(mid, 0)
        self.deaths[mid] = deaths + 1
        if deaths < self.executor.retries:
            self.submit(job)
            return None
        return failed_result(job, reason, "dask")

    def check_time_limit(self, future, job: GrowJob) -> None:
        ex = self.executor
        began, address = self.started[job.model_id]
        elapsed = time.monotonic() - began
        if elapsed <= hard_time_limit(job, ex.hard_timeout_factor, ex.hard_timeout_grace):
            return
        future.cancel()
        self.pending.pop(future, None)
        reason = f"timed out (abandoned after {elapsed:.0f} s)"
        if address:
            try:  # the task's thread cannot be interrupted: restart its worker process
                ex.restart(self.client, address)
                reason = f"timed out (worker restarted after {elapsed:.0f} s)"
            except Exception:
                pass
        self.on_result(failed_result(job, reason, "dask", elapsed))

    def catch_up_events(self) -> None:
        """Wait (2 s at most) for the last event chunks of the models that returned."""
        deadline = time.monotonic() + 2.0
        while not self.done_ids <= self.seen_done and time.monotonic() < deadline:
            time.sleep(0.05)
            self.drain()
        self.drain()

    def finish(self) -> None:
        for future in self.pending:
            future.cancel()
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self.topic)


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
