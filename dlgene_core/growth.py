"""MonitorGrowth: the Keras callback that records a model's growth as it trains.

Keras' batch logs are running means since the epoch began, weighted by samples; the callback
turns them back into each batch's own value (v_k = (N_k*m_k - N_(k-1)*m_(k-1)) / n_k, with
N_k the samples seen after batch k and n_k the batch's size, so a short last batch is
right). It stops training at the time budget, on a NaN/inf loss, or when asked to (the
dashboard's stop button), and forwards each batch and epoch to an optional listener
(live plots, worker queues).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras
import pandas as pd

Listener = Callable[[dict[str, Any]], None]
BATCH_COLUMNS = ("epoch", "batch", "loss", "accuracy", "time")
EPOCH_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "time")


class MonitorGrowth(keras.callbacks.Callback):
    def __init__(
        self,
        model_id: str,
        max_train_time: float,
        listener: Listener | None = None,
        should_stop: Callable[[], bool] | None = None,
        batch_size: int | None = None,
        n_samples: int | None = None,
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
        self.stop_reason = ""  # "", "timed_out", "diverged", "stopped"
        self._start = 0.0
        self._epoch = 0
        self._prev: dict[str, float] = {}
        self._seen = 0

    # ------------------------------------------------------------------ keras hooks
    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

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
        b = self.batches
        b["epoch"].append(self._epoch)
        b["batch"].append(batch)
        b["loss"].append(loss)
        b["accuracy"].append(acc)
        b["time"].append(now)
        if self.listener is not None:
            self.listener(
                {
                    "event": "batch",
                    "model_id": self.model_id,
                    "epoch": self._epoch,
                    "batch": batch,
                    "loss": loss,
                    "accuracy": acc,
                    "time": now,
                }
            )
        self._check_stop(loss_mean, now)

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
            self.listener({"event": "epoch", "model_id": self.model_id, **row})
        self._check_stop(row["loss"], now)

    # ------------------------------------------------------------------ stopping
    def _check_stop(self, loss: float, elapsed: float) -> None:
        if self.stop_reason:
            self.model.stop_training = True
            return
        if not math.isfinite(loss):
            self.stop_reason = "diverged"
        elif self.should_stop is not None and self.should_stop():
            self.stop_reason = "stopped"
        elif elapsed > self.max_train_time:
            self.stop_reason = "timed_out"
        if self.stop_reason:
            self.model.stop_training = True

    # ------------------------------------------------------------------ results
    def batch_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.batches, columns=list(BATCH_COLUMNS))

    def epoch_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.epochs, columns=list(EPOCH_COLUMNS))
