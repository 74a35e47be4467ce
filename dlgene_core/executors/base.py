"""The executor interface and the in-process executor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..data import DataSpec, load_dataset_cached
from ..trainer import GrowJob, ModelResult, grow_one

EventCallback = Callable[[dict[str, Any]], None]
ResultCallback = Callable[[ModelResult], None]
StopCheck = Callable[[], bool]


class Executor:
    """Grows a list of jobs; subclasses decide where. ``close`` frees workers."""

    name = "executor"

    def run(
        self,
        jobs: Sequence[GrowJob],
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
        dataset = load_dataset_cached(spec)
        for job in jobs:
            if should_stop():
                return
            on_event({"event": "start", "model_id": job.model_id, "worker": "main"})
            result = grow_one(job, dataset, listener=on_event, should_stop=should_stop)
            on_result(result)
