"""MonitorGrowth: the Keras callback that records a model's growth as it trains.

Keras' batch logs are running means since the epoch began, weighted by samples; the callback
turns them back into each batch's own value (v_k = (N_k*m_k - N_(k-1)*m_(k-1)) / n_k, with
N_k the samples seen after batch k and n_k the batch's size, so a short last batch is
right). It stops training at the time or step budget, on a NaN/inf loss, when the pruner's
per-epoch threshold is missed, when the validation loss stops improving (early stopping,
keeping the best weights), or when asked to (the dashboard's stop button), and forwards each
batch and epoch to an optional listener (live plots, worker queues).

The time budget is training time: its clock starts when the first batch ends and leaves out
the first validation pass, so graph tracing and start-up (slow under load) never count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras
import pandas as pd

from .events import batch_event, epoch_event
from .records import BATCH_COLUMNS, EPOCH_COLUMNS

Listener = Callable[[dict[str, Any]], None]


class MonitorGrowth(keras.callbacks.Callback):
    def __init__(
        self,
        model_id: str,
        max_train_time: float,
        listener: Listener | None = None,
        should_stop: Callable[[], bool] | None = None,
        batch_size: int | None = None,
        n_samples: int | None = None,
        max_train_steps: int = 0,
        prune_thresholds: list[float] | None = None,
        prune_metric: str = "val_accuracy",
        early_stopping_patience: int = 0,
    ):
        super().__init__()
        self.batch_size = batch_size  # None: batches weigh the same (k*m_k - (k-1)*m_(k-1))
        self.n_samples = n_samples
        self.model_id = model_id
        self.max_train_time = max_train_time
        self.listener = listener
        self.should_stop = should_stop
        self.batches: dict[str, list] = {c: [] for c in BATCH_COLUMNS}
        self.epochs: dict[str, list] = {c: [] for c in EPOCH_COLUMNS}
        self.max_train_steps = max_train_steps
        self.prune_thresholds = list(prune_thresholds or [])
        self.prune_metric = prune_metric
        self.patience = early_stopping_patience
        # "", "timed_out", "out_of_steps", "diverged", "stopped", "pruned", "early_stopped"
        self.stop_reason = ""
        self.best_epoch = 0  # 1-based epoch of the best val loss (early stopping)
        self.best_weights: list | None = None
        self._best_loss = math.inf
        self._best_metric = math.nan
        self._start = 0.0
        self._budget_start: float | None = None  # set when the first batch ends
        self._excluded = 0.0  # seconds of the first validation pass (its tracing)
        self._test_began: float | None = None
        self._steps = 0
        self._epoch = 0
        self._prev: dict[str, float] = {}
        self._seen = 0

    # ------------------------------------------------------------------ keras hooks
    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_test_begin(self, logs=None):
        if not self.epochs["epoch"]:  # the first validation pass traces the test step
            self._test_began = time.perf_counter()

    def on_test_end(self, logs=None):
        if self._test_began is not None:
            self._excluded += time.perf_counter() - self._test_began
            self._test_began = None

    def training_seconds(self) -> float:
        """Seconds counted against ``max_train_time`` (after the first batch, no tracing)."""
        if self._budget_start is None:
            return 0.0
        return time.perf_counter() - self._budget_start - self._excluded

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._prev = {"loss": 0.0, "accuracy": 0.0}
        self._seen = 0

    def _batch_size(self, batch: int) -> int:
        """Samples in batch ``batch`` of the epoch (Keras' means are sample-weighted)."""
        if not self.batch_size:
            return 1
        if self.n_samples:
            return max(1, min(self.batch_size, self.n_samples - batch * self.batch_size))
        return self.batch_size

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = self._batch_size(batch)
        before, seen = self._seen, self._seen + size
        now = time.perf_counter() - self._start
        loss_mean = float(logs.get("loss", math.nan))
        acc_mean = float(logs.get("accuracy", math.nan))
        loss = (seen * loss_mean - before * self._prev["loss"]) / size
        acc = (seen * acc_mean - before * self._prev["accuracy"]) / size
        self._prev = {"loss": loss_mean, "accuracy": acc_mean}
        self._seen = seen
        self._steps += 1
        if self._budget_start is None:
            self._budget_start = time.perf_counter()
        b = self.batches
        b["epoch"].append(self._epoch)
        b["batch"].append(batch)
        b["loss"].append(loss)
        b["accuracy"].append(acc)
        b["time"].append(now)
        if self.listener is not None:
            self.listener(batch_event(self.model_id, self._epoch, batch, loss, acc, now))
        self._check_stop(loss_mean)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        now = time.perf_counter() - self._start
        row = {
            "epoch": epoch,
            "loss": float(logs.get("loss", math.nan)),
            "accuracy": float(logs.get("accuracy", math.nan)),
            "val_loss": float(logs.get("val_loss", math.nan)),
            "val_accuracy": float(logs.get("val_accuracy", math.nan)),
            "time": now,
        }
        for key, value in row.items():
            self.epochs[key].append(value)
        if self.listener is not None:
            self.listener(epoch_event(self.model_id, row))
        self._check_stop(row["loss"])
        if not self.stop_reason:
            self._check_epoch(epoch, row)
        if self.stop_reason:
            self.model.stop_training = True

    def _check_epoch(self, epoch: int, row: dict[str, float]) -> None:
        """Early stopping on val loss (best weights kept) and the pruner's threshold."""
        if self.patience > 0:
            if row["val_loss"] < self._best_loss:
                self._best_loss = row["val_loss"]
                self.best_epoch = epoch + 1
                self.best_weights = self.model.get_weights()
            elif epoch + 1 - self.best_epoch >= self.patience:
                self.stop_reason = "early_stopped"
                return
        value = row.get(self.prune_metric, math.nan)
        if math.isfinite(value):
            better = min if self.prune_metric.endswith("loss") else max
            self._best_metric = (
                value if not math.isfinite(self._best_metric) else better(self._best_metric, value)
            )
        last = epoch + 1 >= int((self.params or {}).get("epochs") or 0)
        # pruning at the last epoch saves nothing: the model counts as finished instead
        if (
            not last
            and epoch < len(self.prune_thresholds)
            and _misses(self._best_metric, self.prune_thresholds[epoch], self.prune_metric)
        ):
            self.stop_reason = "pruned"

    # ------------------------------------------------------------------ stopping
    def _check_stop(self, loss: float) -> None:
        if self.stop_reason:
            self.model.stop_training = True
            return
        if not math.isfinite(loss):
            self.stop_reason = "diverged"
        elif self.should_stop is not None and self.should_stop():
            self.stop_reason = "stopped"
        elif self.training_seconds() > self.max_train_time:
            self.stop_reason = "timed_out"
        elif self.max_train_steps and self._steps >= self.max_train_steps:
            self.stop_reason = "out_of_steps"
        if self.stop_reason:
            self.model.stop_training = True

    # ------------------------------------------------------------------ results
    def batch_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.batches, columns=list(BATCH_COLUMNS))

    def epoch_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.epochs, columns=list(EPOCH_COLUMNS))


def _misses(best: float, threshold: float, metric: str) -> bool:
    """Optuna's median rule: the best value so far is worse than the epoch's threshold."""
    if not math.isfinite(threshold):
        return False
    if not math.isfinite(best):
        return True
    return best > threshold if metric.endswith("loss") else best < threshold
