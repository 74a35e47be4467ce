"""The training events: their kinds and fields, in one place.

Events are plain dicts (they cross process pipes and Dask's event log as they are); these
TypedDicts say what each kind carries. ``batch`` and ``epoch`` come from the Keras
callback in whatever process trains, ``start`` and ``retry`` from the executors,
``result`` from the clade once a model's row is in the folder. Two observers read them:
``Clade.add_listener`` gets every event (the live plots: no traitlet cost per batch),
and the clade's ``last_batch`` / ``last_epoch`` traits hold the latest (the CLI's
progress bar, tests).
"""

from __future__ import annotations

from typing import Any, TypedDict

BATCH, EPOCH, START, RETRY, RESULT = "batch", "epoch", "start", "retry", "result"
KINDS = (START, BATCH, EPOCH, RETRY, RESULT)


class BatchEvent(TypedDict):
    event: str  # "batch"
    model_id: str
    epoch: int
    batch: int
    loss: float  # the batch's own value (not Keras' running mean)
    accuracy: float
    time: float  # seconds since training began


class EpochEvent(TypedDict):
    event: str  # "epoch"
    model_id: str
    epoch: int
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    time: float


class StartEvent(TypedDict, total=False):
    event: str  # "start"
    model_id: str
    worker: str  # "main", "pool-0", "dask-1", ...
    pid: int
    address: str  # a Dask worker's address


class RetryEvent(TypedDict):
    event: str  # "retry"
    model_id: str
    reason: str


class ResultEvent(TypedDict, total=False):
    event: str  # "result"
    model_id: str
    status: str  # see records.STATUSES
    phenotype: dict[str, Any]


def start_event(model_id: str, worker: str, **where: Any) -> StartEvent:
    """The event an executor sends as a model begins on a worker."""
    return StartEvent(event=START, model_id=model_id, worker=worker, **where)


def retry_event(model_id: str, reason: str) -> RetryEvent:
    return RetryEvent(event=RETRY, model_id=model_id, reason=reason)


def batch_event(
    model_id: str, epoch: int, batch: int, loss: float, accuracy: float, time: float
) -> BatchEvent:
    """One training batch, sent by the Keras callback (its own loss, not the running mean)."""
    return BatchEvent(
        event=BATCH, model_id=model_id, epoch=epoch, batch=batch, loss=loss,
        accuracy=accuracy, time=time,
    )  # fmt: skip


def epoch_event(model_id: str, row: dict[str, float]) -> EpochEvent:
    """One finished epoch: ``row`` holds epoch, loss, accuracy, val_loss, val_accuracy, time."""
    return EpochEvent(event=EPOCH, model_id=model_id, **row)  # type: ignore[typeddict-item]


def result_event(model_id: str, status: str, phenotype: dict[str, Any] | None = None):
    """A model's row is in the folder (or, ``stopped``, it will be grown again)."""
    event = ResultEvent(event=RESULT, model_id=model_id, status=status)
    if phenotype is not None:
        event["phenotype"] = phenotype
    return event
