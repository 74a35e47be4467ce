"""One training procedure for the peers, the same as dlgene's ``grow_one`` applies.

A peer's model is built by dlgene's own ``family.build`` and trained here with the genotype's
batch size and epochs, the config's caps (``max_train_time`` counted from the end of the
first batch, ``max_train_steps``), a NaN loss ending the model as diverged, and, with
``early_stopping_patience`` > 0, early stopping on the validation loss with the best epoch's
weights restored, as dlgene's ``MonitorGrowth`` does. Only the search policy differs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from dlgene_core.config import CladeConfig
from dlgene_core.data import Dataset


class TrainingCaps(keras.callbacks.Callback):
    """Time and step caps, divergence, early stopping on val loss, and an epoch count."""

    def __init__(self, cfg: CladeConfig):
        super().__init__()
        self.max_train_time = float(cfg.max_train_time)
        self.max_train_steps = int(getattr(cfg, "max_train_steps", 0) or 0)
        self.patience = int(getattr(cfg, "early_stopping_patience", 0) or 0)
        self.epochs_run = 0
        self.diverged = False
        self.best_weights: list | None = None
        self._best_loss = math.inf
        self._since_best = 0
        self._steps = 0
        self._clock: float | None = None

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._steps += 1
        if self._clock is None:  # tracing and start-up do not count (dlgene's rule)
            self._clock = time.perf_counter()
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            self.diverged = True
        elapsed = time.perf_counter() - self._clock
        over_steps = self.max_train_steps and self._steps >= self.max_train_steps
        if self.diverged or elapsed > self.max_train_time or over_steps:
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs_run += 1
        if self.patience <= 0:
            return
        val_loss = float((logs or {}).get("val_loss", math.inf))
        if val_loss < self._best_loss:
            self._best_loss, self._since_best = val_loss, 0
            self.best_weights = self.model.get_weights()
        else:
            self._since_best += 1
            if self._since_best >= self.patience:
                self.model.stop_training = True


@dataclass
class Outcome:
    """What one trained model scored: validation (for selection) and test (reported only)."""

    epochs_run: int
    diverged: bool
    val_accuracy: float
    test_accuracy: float
    wall_s: float


def fit_and_score(
    model: Any,
    genotype: dict[str, Any],
    dataset: Dataset,
    cfg: CladeConfig,
    epochs: int,
    initial_epoch: int = 0,
    callbacks: list | None = None,
) -> Outcome:
    """Train ``model`` (built from ``genotype``) and score the kept weights on val and test."""
    caps = TrainingCaps(cfg)
    batch_size = int(genotype["batch_size"])
    started = time.perf_counter()
    model.fit(
        dataset.x_train,
        dataset.y_train,
        batch_size=batch_size,
        epochs=int(epochs),
        initial_epoch=int(initial_epoch),
        validation_data=(dataset.x_val, dataset.y_val),
        callbacks=[caps, *(callbacks or [])],
        verbose=0,
        shuffle=True,
    )
    if caps.diverged or not all(np.all(np.isfinite(w)) for w in model.get_weights()):
        return Outcome(caps.epochs_run, True, math.nan, math.nan, time.perf_counter() - started)
    if caps.best_weights is not None:
        model.set_weights(caps.best_weights)
    # accuracy as dlgene's evaluate_predictions computes it (argmax of predict, in float64),
    # so equal picks compare equal across tools
    eval_batch = max(256, batch_size)
    scores = [
        float(np.mean(model.predict(x, batch_size=eval_batch, verbose=0).argmax(axis=1) == y))
        for x, y in ((dataset.x_val, dataset.y_val), (dataset.x_test, dataset.y_test))
    ]
    return Outcome(caps.epochs_run, False, scores[0], scores[1], time.perf_counter() - started)
