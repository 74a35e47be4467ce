"""ProcessPoolExecutor: a pool of persistent worker processes on this machine.

Each worker is a spawned process that sets TensorFlow to one intra-op and one inter-op
thread before TF initialises, imports TF once, loads the data once per spec, and grows one
model at a time. The pool lives as long as the executor object (pass the same object to
several ``grow_models`` / ``evolve`` calls to reuse warm workers); ``close()`` ends it and
a closed pool starts again lazily.

The caller's thread (the one in ``run``) does all the bookkeeping: it hands jobs to idle
workers, reads their pipes (event chunks, results), calls ``on_event`` / ``on_result``,
replaces workers that died (the model is retried or recorded as failed with the exit
code), kills workers past the hard time limit, recycles workers after
``max_models_per_worker`` models (TF leaks ~13 MiB per model) and relays stop requests
through a lock-free shared flag that the workers' ``should_stop`` reads at every batch.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from ..data import DataSpec
from ..events import retry_event, start_event
from ..records import GrowJob, ModelResult
from .base import EventCallback, Executor, Jobs, ResultCallback, StopCheck
from .common import (
    EventBuffer,
    check_int,
    check_positive,
    failed_result,
    hard_time_limit,
    worker_env,
)
from .feed import JobFeed, as_feed
from .placement import PIN_ENV, available_cpus, gpu_env, pin_to_cpu, visible_gpus

_ENV_LOCK = threading.Lock()
_MAX_START_FAILURES = 3


# ---------------------------------------------------------------------- worker side
def _worker_main(
    name: str,
    env: dict[str, str],
    tasks: Connection,
    out: Connection,
    stop_flag: Any,
    event_interval: float,
) -> None:
    """A worker's life: set threads, import TF once, then grow the jobs it is sent."""
    os.environ.update(env)  # before TensorFlow initialises
    pin_to_cpu(env.get(PIN_ENV, ""))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    try:
        import tensorflow  # noqa: F401  (imported once per worker)

        from ..data import load_dataset_cached
        from ..trainer import grow_one, prepare_tensorflow

        prepare_tensorflow(deterministic=False, threads=1)
    except BaseException:
        out.send(("init_error", traceback.format_exc()[-3000:]))
        return
    out.send(("ready", os.getpid()))

    def should_stop() -> bool:
        return bool(stop_flag.value)

    while True:
        try:
            message = tasks.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job, spec = message
        buffer = EventBuffer(lambda chunk: out.send(("events", chunk)), event_interval)
        try:
            dataset = load_dataset_cached(DataSpec.from_dict(spec))
            result = grow_one(job, dataset, listener=buffer, should_stop=should_stop, worker=name)
        except Exception as exc:  # data that will not load: the model fails, the worker lives
            result = failed_result(job, f"{type(exc).__name__}: {exc}"[:500], name)
        buffer.flush()
        out.send(("result", result))


# ---------------------------------------------------------------------- caller side
@dataclass
class _Worker:
    slot: int
    name: str
    process: Any
    tasks: Connection
    out: Connection
    pid: int | None = None
    ready: bool = False
    job: GrowJob | None = None
    job_started: float = 0.0
    n_models: int = 0
    retiring: bool = False
    kill_reason: str = ""


@dataclass
class _Run:
    jobs: JobFeed
    spec: dict[str, Any]
    on_event: EventCallback
    on_result: ResultCallback
    attempts: dict[str, int] = field(default_factory=dict)
    stopping: bool = False
    stop_since: float = 0.0


class ProcessPoolExecutor(Executor):
    """Grow models in a pool of persistent worker processes (one TF thread pool each).

    workers: pool size (default: the number of cores). retries: times a model whose worker
    died is tried again. max_models_per_worker: a worker is replaced after this many models
    (keeps memory flat). hard_timeout_factor / hard_timeout_grace: a worker still on one
    model after factor x max_train_time + grace seconds is killed ("timed out (killed)").
    event_interval: seconds between a worker's event chunks. gpus: GPU ids to spread the
    workers over (default: the visible GPUs; none on a CPU machine). stop_grace: seconds a
    stopped worker may take to return before it is killed. pin_cpus: pin each worker to its
    own core when there are no more workers than cores (TF's helper threads stay put).
    """

    name = "pool"

    def __init__(
        self,
        workers: int | None = None,
        retries: int = 0,
        max_models_per_worker: int = 50,
        hard_timeout_factor: float = 2.0,
        hard_timeout_grace: float = 60.0,
        event_interval: float = 0.1,
        gpus: Sequence[str] | None = None,
        start_timeout: float = 300.0,
        stop_grace: float = 30.0,
        pin_cpus: bool = True,
    ):
        if workers is None:
            workers = os.cpu_count() or 1
        check_int("workers", workers, 1, "None (one per core) or an int >= 1")
        check_int("retries", retries, 0, "an int >= 0")
        check_int("max_models_per_worker", max_models_per_worker, 1, "an int >= 1")
        check_positive("hard_timeout_factor", hard_timeout_factor, "a number >= 1", 0.999)
        check_positive("hard_timeout_grace", hard_timeout_grace, "a number of seconds > 0")
        check_positive("event_interval", event_interval, "a number of seconds > 0")
        check_positive("start_timeout", start_timeout, "a number of seconds > 0")
        check_positive("stop_grace", stop_grace, "a number of seconds > 0")
        self.workers = workers
        self.retries = retries
        self.max_models_per_worker = max_models_per_worker
        self.hard_timeout_factor = float(hard_timeout_factor)
        self.hard_timeout_grace = float(hard_timeout_grace)
        self.event_interval = float(event_interval)
        self.gpus = list(visible_gpus() if gpus is None else gpus)
        self.start_timeout = float(start_timeout)
        self.stop_grace = float(stop_grace)
        cpus = available_cpus()
        # one worker per core at most: pin each to its own core (no pinning when oversubscribed)
        self._cpus = cpus if pin_cpus and 0 < workers <= len(cpus) else []
        self._ctx = mp.get_context("spawn")
        self._stop_flag = self._ctx.RawValue(ctypes.c_int, 0)  # lock-free: a kill can't wedge it
        self._slots: dict[int, _Worker] = {}
        self._start_failures = 0
        self._run: _Run | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public
    @property
    def running(self) -> bool:
        return bool(self._slots)

    def start(self) -> None:
        """Start any missing workers (without waiting for them to import TensorFlow)."""
        for slot in range(self.workers):
            if slot not in self._slots:
                self._spawn(slot)

    def wait_ready(self, timeout: float | None = None) -> float:
        """Start the pool and block until every worker has imported TensorFlow; returns the
        seconds waited (the pool's start-up cost, kept apart from training time)."""
        started = time.perf_counter()
        self.start()
        limit = self.start_timeout if timeout is None else timeout
        while not all(w.ready for w in self._slots.values()):
            if time.perf_counter() - started > limit:
                raise TimeoutError(f"pool workers not ready after {limit:g} s")
            self._poll(0.1)
        return time.perf_counter() - started

    def worker_pids(self) -> dict[str, int]:
        """Worker name -> process id of the live workers (for monitoring and tests)."""
        return {
            w.name: w.process.pid
            for w in self._slots.values()
            if w.process.pid is not None and w.process.is_alive()
        }

    @property
    def slots(self) -> int:  # type: ignore[override]
        return self.workers

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
        with self._lock:
            self._stop_flag.value = 0
            self.start()
            self._run = _Run(feed, spec.to_dict(), on_event, on_result)
            try:
                self._loop(self._run, should_stop)
            except BaseException:
                self.close()  # busy workers' late results must not reach a later run
                raise
            finally:
                self._run = None

    def close(self) -> None:
        """Stop every worker (a later ``run`` starts a fresh pool)."""
        workers, self._slots = list(self._slots.values()), {}
        for w in workers:
            if w.ready and w.job is None:
                try:
                    w.tasks.send(None)
                except OSError:
                    w.process.kill()
            else:  # busy, or still importing TensorFlow: nothing to lose
                w.process.kill()
        deadline = time.monotonic() + 10
        for w in workers:
            w.process.join(max(0.1, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
            for conn in (w.tasks, w.out):
                conn.close()

    def __del__(self):
        try:
            if self._slots:
                self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ the loop
    def _loop(self, run: _Run, should_stop: StopCheck) -> None:
        while True:
            if not run.stopping and should_stop():
                run.stopping, run.stop_since = True, time.monotonic()
                self._stop_flag.value = 1
                run.jobs.drop_queued()  # not started: grown again on resume
            busy = [w for w in self._slots.values() if w.job is not None]
            if not busy and (run.stopping or run.jobs.exhausted):
                return
            if run.stopping and time.monotonic() - run.stop_since > self.stop_grace:
                for w in busy:
                    w.kill_reason = "stopped"
                    w.process.kill()
            self._dispatch(run)
            self._check_time_limits()
            self._poll(0.05)

    def _dispatch(self, run: _Run) -> None:
        if run.stopping:
            return
        for w in sorted(self._slots.values(), key=lambda w: w.slot):
            if not w.ready or w.retiring or w.job is not None:
                continue
            job = run.jobs.take()
            if job is None:
                return
            try:
                w.tasks.send((job, run.spec))
            except OSError:  # died a moment ago: its sentinel will tell
                run.jobs.put_back(job)
                continue
            w.job, w.job_started = job, time.monotonic()
            run.on_event(start_event(job.model_id, w.name, pid=w.pid))

    def _check_time_limits(self) -> None:
        now = time.monotonic()
        for w in self._slots.values():
            if w.job is None or w.kill_reason:
                continue
            limit = hard_time_limit(w.job, self.hard_timeout_factor, self.hard_timeout_grace)
            if now - w.job_started > limit:
                w.kill_reason = f"timed out (killed after {now - w.job_started:.0f} s)"
                w.process.kill()

    def _poll(self, timeout: float) -> None:
        """Wait up to ``timeout`` for worker messages or exits and handle them."""
        by_conn = {w.out: w for w in self._slots.values()}
        by_sentinel = {w.process.sentinel: w for w in self._slots.values()}
        if not by_conn:
            time.sleep(timeout)
            return
        ready = wait([*by_conn, *by_sentinel], timeout)
        for obj in ready:
            if obj in by_conn:
                self._drain(by_conn[obj])
        for obj in ready:
            if obj in by_sentinel:
                w = by_sentinel[obj]
                self._drain(w)
                self._exited(w)

    def _drain(self, w: _Worker) -> None:
        try:
            while w.out.poll():
                self._message(w, w.out.recv())
        except (EOFError, OSError):
            pass  # the worker is gone; its sentinel reports it

    def _message(self, w: _Worker, message: tuple) -> None:
        kind, payload = message
        run = self._run
        if kind == "events":
            if run is not None and w.job is not None:
                for event in payload:
                    run.on_event(event)
        elif kind == "result":
            job, w.job, w.kill_reason = w.job, None, ""
            w.n_models += 1
            if run is not None and job is not None:
                self._finish(run, payload)
            if w.n_models >= self.max_models_per_worker:
                self._retire(w)
        elif kind == "ready":
            w.ready, w.pid = True, int(payload)
            self._start_failures = 0
        elif kind == "init_error":
            self.close()
            raise RuntimeError(f"a pool worker could not start TensorFlow:\n{payload}")

    def _finish(self, run: _Run, result: ModelResult) -> None:
        run.on_result(result)

    def _retire(self, w: _Worker) -> None:
        """Replace a worker that grew its share of models (memory stays flat)."""
        w.retiring = True
        with contextlib.suppress(OSError):
            w.tasks.send(None)
        self._slots.pop(w.slot, None)
        self._spawn(w.slot)
        w.process.join(10)
        if w.process.is_alive():
            w.process.kill()
            w.process.join(5)
        w.tasks.close()
        w.out.close()

    def _exited(self, w: _Worker) -> None:
        """A worker process ended: retry or fail its model, then replace it."""
        if self._slots.get(w.slot) is not w:
            return
        w.process.join(1)
        code = w.process.exitcode
        del self._slots[w.slot]
        w.tasks.close()
        w.out.close()
        run, job = self._run, w.job
        if job is not None and run is not None:
            elapsed = time.monotonic() - w.job_started
            if w.kill_reason == "stopped":
                result = failed_result(job, "stopped by request", w.name, elapsed)
                result.phenotype["status"] = "stopped"
                self._finish(run, result)
            elif w.kill_reason:
                self._finish(run, failed_result(job, w.kill_reason, w.name, elapsed))
            else:
                reason = f"worker died: exit code {code}" + _signal_name(code)
                tries = run.attempts.get(job.model_id, 0) + 1
                run.attempts[job.model_id] = tries
                if tries <= self.retries and not run.stopping:
                    run.on_event(retry_event(job.model_id, reason))
                    run.jobs.put_back(job)
                else:
                    self._finish(run, failed_result(job, reason, w.name, elapsed))
        elif not w.ready:
            self._start_failures += 1
            if self._start_failures >= _MAX_START_FAILURES:
                self.close()
                raise RuntimeError(
                    f"pool workers keep dying while starting (last exit code {code}); "
                    "a script that starts a pool needs an `if __name__ == '__main__':` guard"
                )
        self._spawn(w.slot)

    def _spawn(self, slot: int) -> None:
        env = {**worker_env(), **gpu_env(slot, self.gpus)}
        if self._cpus:
            env[PIN_ENV] = str(self._cpus[slot % len(self._cpus)])
        tasks_recv, tasks_send = self._ctx.Pipe(duplex=False)
        out_recv, out_send = self._ctx.Pipe(duplex=False)
        name = f"pool-{slot}"
        process = self._ctx.Process(
            target=_worker_main,
            args=(name, env, tasks_recv, out_send, self._stop_flag, self.event_interval),
            name=f"dlgene-{name}",
            daemon=True,
        )
        with _ENV_LOCK:  # the child inherits these before anything imports TensorFlow
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                process.start()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        tasks_recv.close()
        out_send.close()
        self._slots[slot] = _Worker(slot, name, process, tasks_send, out_recv)


def _signal_name(code: int | None) -> str:
    if code is None or code >= 0:
        return ""
    try:
        return f" ({signal.Signals(-code).name})"
    except ValueError:
        return ""
