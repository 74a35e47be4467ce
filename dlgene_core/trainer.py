"""Grow one model: build it from its genotype, train it, evaluate it, package the result.

``grow_one`` is a pure function of a :class:`GrowJob` and a data set, so the same code runs
in the notebook's process, in a pool worker or on a Dask worker; results travel back as a
:class:`ModelResult` (tables, arrays and the trained model's .h5 bytes).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .data import Dataset
from .records import (  # noqa: F401  (re-exported: the names callers know)
    FINISHED_STATUSES,
    PHENOTYPE_COLUMNS,
    GrowJob,
    ModelResult,
)

if TYPE_CHECKING:
    from .growth import MonitorGrowth

Listener = Callable[[dict[str, Any]], None]


def model_seed(seed: int, model_id: str) -> int:
    """A per-model training seed drawn from the clade seed and the model id."""
    digest = np.random.default_rng([seed, *model_id.encode()]).integers(0, 2**31 - 1)
    return int(digest)


_DETERMINISM_ON = False


def prepare_tensorflow(deterministic: bool, threads: int | None = None) -> None:
    """Per-process TF set-up: op determinism, (in workers) one-thread pools, and Keras'
    weight seeds isolated from the process's ``random`` (so every executor is repeatable)."""
    global _DETERMINISM_ON
    import tensorflow as tf

    from .determinism import isolate_keras_seeds
    from .quiet import quiet_if_asked

    quiet_if_asked()
    isolate_keras_seeds()
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised in this process: keep what it has
            pass
    if deterministic and not _DETERMINISM_ON:
        tf.config.experimental.enable_op_determinism()
        _DETERMINISM_ON = True


def grow_one(
    job: GrowJob,
    dataset: Dataset,
    listener: Listener | None = None,
    should_stop: Callable[[], bool] | None = None,
    worker: str = "main",
) -> ModelResult:
    """Train and evaluate one genotype. Never raises for a bad model: it returns status."""
    import keras

    from .config import CladeConfig
    from .families import get_family
    from .growth import MonitorGrowth

    cfg = CladeConfig.from_dict(job.config)
    base = {
        "model_id": job.model_id,
        "generation": job.generation,
        "kind": job.kind,
        "worker": worker,
        "repairs": "",
    }
    monitor = MonitorGrowth(
        job.model_id,
        cfg.max_train_time,
        listener,
        should_stop,
        max_train_steps=cfg.max_train_steps,
        prune_thresholds=job.prune_thresholds,
        prune_metric=cfg.selection_metric,
        early_stopping_patience=cfg.early_stopping_patience,
    )
    started = time.perf_counter()
    try:
        prepare_tensorflow(cfg.deterministic)
        # free_memory=False: the default's gc.collect() costs 0.1-1 s a model and does not
        # stop TF's per-model growth anyway (worker recycling does)
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(job.seed)
        family = get_family(job.kind)
        genotype, base["repairs"] = family.repair(job.genotype, dataset)
        model = family.build(genotype, dataset, cfg)
        monitor.batch_size, monitor.n_samples = int(genotype["batch_size"]), len(dataset.y_train)
        history_epochs = int(genotype["epochs"])
        model.fit(
            dataset.x_train,
            dataset.y_train,
            batch_size=int(genotype["batch_size"]),
            epochs=history_epochs,
            validation_data=(dataset.x_val, dataset.y_val),
            callbacks=[monitor],
            verbose=0,
            shuffle=True,
        )
    except Exception as exc:  # an impossible genotype, OOM, ... : record, don't raise
        reason = f"{type(exc).__name__}: {exc}".strip()[:500]
        phenotype = _phenotype(base, "failed", reason, monitor, None, {}, started)
        phenotype["traceback"] = traceback.format_exc()[-2000:]
        return ModelResult(job.model_id, phenotype, monitor.batch_table(), monitor.epoch_table())
    if monitor.stop_reason == "stopped":
        phenotype = _phenotype(base, "stopped", "stopped by request", monitor, model, {}, started)
        return ModelResult(job.model_id, phenotype, monitor.batch_table(), monitor.epoch_table())
    train_time = time.perf_counter() - started
    if monitor.stop_reason == "diverged" or not _finite_weights(model):
        phenotype = _phenotype(
            base, "diverged", "loss became NaN or infinite", monitor, model, {}, started, train_time
        )
        return ModelResult(
            job.model_id,
            phenotype,
            monitor.batch_table(),
            monitor.epoch_table(),
            model_h5=_h5_bytes(model),
        )
    status, reason = _finished_status(monitor, cfg)
    if monitor.best_weights is not None:  # early stopping: keep the best val-loss epoch
        model.set_weights(monitor.best_weights)
    probs = model.predict(
        dataset.x_test, batch_size=max(256, int(genotype["batch_size"])), verbose=0
    )
    test = evaluate_predictions(
        probs, dataset.y_test, dataset.n_classes, logits=cfg.final_activation == "linear"
    )
    phenotype = _phenotype(base, status, reason, monitor, model, test, started, train_time)
    return ModelResult(
        job.model_id,
        phenotype,
        monitor.batch_table(),
        monitor.epoch_table(),
        misclassified=test["misclassified"],
        confusion=test["confusion"],
        model_h5=_h5_bytes(model),
    )


def _finished_status(monitor: MonitorGrowth, cfg: Any) -> tuple[str, str]:
    """Status and reason of a model that trained without failing or diverging."""
    stop = monitor.stop_reason
    if stop == "timed_out":
        return "timed_out", f"stopped at the {cfg.max_train_time:g} s budget"
    if stop == "out_of_steps":
        return "timed_out", f"stopped at the {cfg.max_train_steps} step budget"
    if stop == "pruned":
        return "pruned", (
            f"pruned after epoch {len(monitor.epochs['epoch'])}: {cfg.selection_metric} "
            f"below the {cfg.pruner} threshold"
        )
    if stop == "early_stopped":
        return "ok", (
            f"early stopped after epoch {len(monitor.epochs['epoch'])}; kept epoch "
            f"{monitor.best_epoch}"
        )
    return "ok", ""


def evaluate_predictions(
    probs: np.ndarray, y: np.ndarray, n_classes: int, logits: bool = False
) -> dict[str, Any]:
    """Test loss/accuracy, misclassified samples and the confusion matrix from one predict."""
    probs = np.asarray(probs, dtype=np.float64)
    if logits:
        probs = np.exp(probs - probs.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
    predicted = probs.argmax(axis=1)
    picked = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    wrong = np.flatnonzero(predicted != y)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    misclassified = pd.DataFrame(
        {
            "index": wrong.astype(np.int64),
            "true": y[wrong].astype(np.int64),
            "predicted": predicted[wrong].astype(np.int64),
            "confidence": probs[wrong, predicted[wrong]].astype(np.float64),
        }
    )
    return {
        "test_loss": float(-np.mean(np.log(picked))),
        "test_accuracy": float(np.mean(predicted == y)),
        "misclassified": misclassified,
        "confusion": confusion,
    }


def _finite_weights(model) -> bool:
    return all(np.all(np.isfinite(w)) for w in model.get_weights())


def _last(values: dict[str, list], key: str) -> float:
    column = values.get(key) or []
    return float(column[-1]) if column else math.nan


def _phenotype(
    base: dict,
    status: str,
    reason: str,
    monitor: MonitorGrowth,
    model,
    test: dict,
    started: float,
    train_time: float | None = None,
) -> dict[str, Any]:
    epochs = monitor.epochs
    kept = len(epochs["epoch"])
    if monitor.best_weights is not None and status not in ("diverged", "failed", "stopped"):
        kept = monitor.best_epoch  # early stopping restored this epoch's weights
    values = {key: column[:kept] for key, column in epochs.items()}
    return {
        **base,
        "status": status,
        "reason": reason,
        "train_loss": _last(values, "loss"),
        "train_accuracy": _last(values, "accuracy"),
        "val_loss": _last(values, "val_loss"),
        "val_accuracy": _last(values, "val_accuracy"),
        "test_loss": float(test.get("test_loss", math.nan)),
        "test_accuracy": float(test.get("test_accuracy", math.nan)),
        "n_params": int(model.count_params()) if model is not None else 0,
        "train_time": float(
            train_time if train_time is not None else time.perf_counter() - started
        ),
        "epochs_run": len(epochs["epoch"]),
        # epochs whose weights the model keeps (early stopping restores its best epoch)
        "best_epoch": kept,
        "batches_run": len(monitor.batches["batch"]),
        "duplicate_of": "",
    }


def _h5_bytes(model) -> bytes:
    """Legacy .h5 bytes of a finished model (saved once training is over: see notes)."""
    import logging

    fd, path = tempfile.mkstemp(suffix=".h5")
    os.close(fd)
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)  # the "HDF5 is legacy" warning: .h5 is our chosen format
    try:
        model.save(path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        absl.setLevel(level)
        os.unlink(path)
