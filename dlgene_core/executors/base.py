"""The executor interface and the in-process executor.

Every executor takes its jobs as a list or as an open :class:`~.feed.JobFeed` (a
steady-state run adds a child whenever a result comes back) and calls back ``on_event``
and ``on_result`` in the caller's process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..data import DataSpec, load_dataset_cached
from ..events import start_event
from ..records import GrowJob, ModelResult
from ..trainer import grow_one
from .feed import JobFeed, as_feed

EventCallback = Callable[[dict[str, Any]], None]
ResultCallback = Callable[[ModelResult], None]
StopCheck = Callable[[], bool]


Jobs = Sequence[GrowJob] | JobFeed
_IDLE_WAIT = 0.05  # seconds an executor with an open, empty feed waits between looks


class Executor:
    """Grows jobs (a list, or an open feed); subclasses decide where. ``close`` frees
    workers. ``slots`` is how many models it grows at once; ``prefetch`` how many more
    jobs each slot holds queued, so a worker that returns a result starts its next model at
    once instead of waiting for the caller's round trip. A steady-state run keeps
    ``capacity`` jobs in flight."""

    name = "executor"
    slots = 1
    prefetch = 0

    @property
    def capacity(self) -> int:
        """Jobs this executor wants in flight: every slot busy plus its queued ones."""
        return max(1, int(self.slots or 1)) * (1 + int(self.prefetch))

    def run(
        self,
        jobs: Jobs,
        spec: DataSpec,
        on_event: EventCallback,
        on_result: ResultCallback,
        should_stop: StopCheck,
    ) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers; a closed executor may be used again (it restarts them)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InProcessExecutor(Executor):
    """One model after another in this process (the default; best for tiny runs)."""

    name = "inprocess"

    def run(self, jobs, spec, on_event, on_result, should_stop):
        feed = as_feed(jobs)
        if feed.exhausted:
            return
        dataset = load_dataset_cached(spec)
        while not should_stop():
            job = feed.take()
            if job is None:
                if feed.exhausted:
                    return
                feed.wait(_IDLE_WAIT)  # another thread may still add or close
                continue
            on_event(start_event(job.model_id, "main"))
            result = grow_one(job, dataset, listener=on_event, should_stop=should_stop)
            on_result(result)
