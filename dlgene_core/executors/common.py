"""Pieces shared by the worker-based executors: thread settings, event chunks, failures."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..records import BATCH_COLUMNS, EPOCH_COLUMNS, PHENOTYPE_COLUMNS, GrowJob, ModelResult

# Set in a worker's environment before TensorFlow initialises: one intra-op and one
# inter-op thread per worker process (two TF pools on two busy cores collapse).
ONE_THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
}


def worker_env() -> dict[str, str]:
    """ONE_THREAD_ENV plus the parent's log levels now (the CLI sets them at start)."""
    env = dict(ONE_THREAD_ENV)
    for key in ("TF_CPP_MIN_LOG_LEVEL", "DLGENE_QUIET", "GRPC_VERBOSITY", "ABSL_MIN_LOG_LEVEL"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


EventSender = Callable[[list[dict[str, Any]]], None]


class EventBuffer:
    """Collects a worker's training events and sends them in chunks, at most one chunk per
    ``interval`` seconds (or when ``max_events`` pile up), so a busy caller is not flooded.
    Epoch events go out at once (they are rare and a plot wants them)."""

    def __init__(self, send: EventSender, interval: float = 0.1, max_events: int = 500):
        self.send = send
        self.interval = interval
        self.max_events = max_events
        self._events: list[dict[str, Any]] = []
        self._last = time.monotonic()

    def __call__(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        now = time.monotonic()
        if (
            now - self._last >= self.interval
            or len(self._events) >= self.max_events
            or event.get("event") == "epoch"
        ):
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self._events:
            chunk, self._events = self._events, []
            self.send(chunk)
        self._last = time.monotonic() if now is None else now


def failed_result(job: GrowJob, reason: str, worker: str, elapsed: float = 0.0) -> ModelResult:
    """The result of a model whose worker died or was killed: recorded as failed."""
    phenotype: dict[str, Any] = {c: math.nan for c in PHENOTYPE_COLUMNS}
    phenotype.update(
        {
            "model_id": job.model_id,
            "generation": job.generation,
            "kind": job.kind,
            "status": "failed",
            "reason": reason,
            "n_params": 0,
            "train_time": float(elapsed),
            "epochs_run": 0,
            "best_epoch": 0,
            "batches_run": 0,
            "worker": worker,
            "repairs": "",
            "duplicate_of": "",
        }
    )
    return ModelResult(
        job.model_id,
        phenotype,
        pd.DataFrame(columns=list(BATCH_COLUMNS)),
        pd.DataFrame(columns=list(EPOCH_COLUMNS)),
    )


def hard_time_limit(job: GrowJob, factor: float, grace: float) -> float:
    """Seconds after which a model's worker is given up on: factor x budget + grace."""
    budget = float(job.config.get("max_train_time", 120.0))
    return factor * budget + grace


def check_int(name: str, value: int | None, minimum: int, allowed: str, optional=False) -> None:
    """An int >= minimum (a bool is not one here), or None when ``optional``."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}={value!r}: allowed {allowed}")


def check_positive(name: str, value: float, allowed: str, minimum: float = 0.0) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > minimum:
        raise ValueError(f"{name}={value!r}: allowed {allowed}")
