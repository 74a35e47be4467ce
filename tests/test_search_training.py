"""Early stopping, step budgets, the time budget's start and the pruner inside grow_one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlgene_core import CladeConfig, DataSpec, load_dataset
from dlgene_core.pruning import prune_thresholds
from dlgene_core.trainer import GrowJob, grow_one

CFG = CladeConfig(max_train_time=60.0, epochs=(1, 30), nb_units=(2, 64), batch_size=(8, 512))


def _genotype(**changes) -> dict:
    genotype = {
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": 100,  # 1,294 training samples: 13 batches an epoch
        "epochs": 4,
        "layers": [{"units": 32, "activation": "relu", "regularizer": "none", "reg_value": 0.0}],
    }
    genotype.update(changes)
    return genotype


def _job(genotype: dict, cfg: CladeConfig = CFG, thresholds=()) -> GrowJob:
    return GrowJob(
        "g0-000", 0, "GAFC1", genotype, 1234, cfg.to_dict(), prune_thresholds=list(thresholds)
    )


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataSpec("digits"))


def test_early_stopping_keeps_the_best_val_loss_epoch(digits, tmp_path) -> None:
    """A learning rate far too high makes val loss jump about; patience 2 stops the model
    and restores the epoch with the lowest val loss; the phenotype reports that epoch."""
    cfg = CFG.updated(early_stopping_patience=2)
    result = grow_one(_job(_genotype(epochs=30, learning_rate=0.08), cfg), digits)
    ph, epochs = result.phenotype, result.epochs
    assert ph["status"] == "ok" and "early stopped" in ph["reason"]
    best = int(np.argmin(epochs["val_loss"].to_numpy())) + 1
    assert ph["best_epoch"] == best
    assert ph["epochs_run"] == best + 2 < 30
    assert ph["val_loss"] == pytest.approx(float(epochs["val_loss"].iloc[best - 1]))
    assert ph["val_accuracy"] == pytest.approx(float(epochs["val_accuracy"].iloc[best - 1]))
    # the saved model holds the kept epoch's weights: its val loss is the phenotype's
    import keras

    path = tmp_path / "kept.h5"
    path.write_bytes(result.model_h5)
    model = keras.models.load_model(path, compile=False)
    probs = np.clip(model.predict(digits.x_val, verbose=0).astype(np.float64), 1e-7, 1)
    val_loss = -np.mean(np.log(probs[np.arange(len(digits.y_val)), digits.y_val]))
    assert val_loss == pytest.approx(ph["val_loss"], rel=1e-3)


def test_without_patience_every_epoch_runs(digits) -> None:
    ph = grow_one(_job(_genotype(epochs=3)), digits).phenotype
    assert ph["epochs_run"] == ph["best_epoch"] == 3 and ph["reason"] == ""


def test_step_budget_stops_at_the_same_batch_every_time(digits) -> None:
    cfg = CFG.updated(max_train_steps=20)
    a = grow_one(_job(_genotype(epochs=5), cfg), digits)
    b = grow_one(_job(_genotype(epochs=5), cfg), digits)
    assert a.phenotype["status"] == "timed_out" and "20 step budget" in a.phenotype["reason"]
    assert a.phenotype["batches_run"] == 20 and a.phenotype["epochs_run"] == 2
    for key in ("val_loss", "val_accuracy", "test_accuracy", "batches_run"):
        assert a.phenotype[key] == b.phenotype[key], key


def test_time_budget_leaves_out_the_first_batch(digits, monkeypatch) -> None:
    """A first batch that takes longer than the whole budget (tracing under load) still
    leaves the model its budget of training."""
    from dlgene_core import growth

    real = growth.MonitorGrowth.on_train_batch_end

    def slow_first(self, batch, logs=None):
        if not self.batches["batch"]:
            import time

            time.sleep(4.0)
        return real(self, batch, logs)

    monkeypatch.setattr(growth.MonitorGrowth, "on_train_batch_end", slow_first)
    cfg = CFG.updated(max_train_time=3.0)
    ph = grow_one(_job(_genotype(epochs=2), cfg), digits).phenotype
    assert ph["status"] == "ok" and ph["epochs_run"] == 2


def test_model_below_the_threshold_is_pruned_after_warmup(digits) -> None:
    genotype = _genotype(epochs=6)
    thresholds = [math.nan, math.nan, 0.999, 0.999, 0.999, 0.999]
    result = grow_one(_job(genotype, thresholds=thresholds), digits)
    ph = result.phenotype
    assert ph["status"] == "pruned" and ph["epochs_run"] == 3
    assert "pruned after epoch 3" in ph["reason"]
    assert 0.0 <= ph["test_accuracy"] <= 1.0 and result.model_h5
    easy = grow_one(_job(genotype, thresholds=[math.nan, 0.05, 0.05]), digits).phenotype
    assert easy["status"] == "ok" and easy["epochs_run"] == 6
    # missing the threshold at its last epoch saves nothing: the model counts as finished
    last = grow_one(_job(_genotype(epochs=2), thresholds=[math.nan, 0.999]), digits).phenotype
    assert last["status"] == "ok" and last["epochs_run"] == 2


def test_median_thresholds_take_each_completed_models_best_so_far() -> None:
    cfg = CladeConfig(pruner="median", pruner_warmup_epochs=1, pruner_startup_models=3)
    curves = [[0.1, 0.2, 0.3], [0.2, 0.4], [0.3, 0.6, 0.9], [0.5]]
    thresholds = prune_thresholds(cfg, curves)
    assert math.isnan(thresholds[0])  # warm-up epoch
    # epoch 1: median(0.2, 0.4, 0.6, 0.5); epoch 2: median(0.3, 0.4 held, 0.9, 0.5 held)
    assert thresholds[1:] == pytest.approx([0.45, 0.45])
    assert prune_thresholds(cfg.updated(pruner_startup_models=5), curves) == []
    assert prune_thresholds(cfg.updated(pruner="none"), curves) == []
    loss = prune_thresholds(cfg.updated(selection_metric="val_loss"), curves)
    assert loss[1:] == pytest.approx([0.25, 0.25])  # running minima 0.1, 0.2, 0.3, 0.5


def test_models_that_stopped_early_still_set_the_late_thresholds() -> None:
    """Early stopping ends the poor models first, so the models still running at a late
    epoch are the good ones; a median of those alone pruned a child as good as the best."""
    cfg = CladeConfig(pruner="median", pruner_warmup_epochs=1, pruner_startup_models=3)
    good = [0.5, 0.7, 0.80, 0.82, 0.83]
    curves = [good, good, [0.3, 0.4], [0.3, 0.45], [0.6, 0.78, 0.81]]
    thresholds = prune_thresholds(cfg, curves)
    assert thresholds[4] == pytest.approx(0.81)  # not 0.83, the median of the two long runs
    assert thresholds[4] < 0.825  # a child at 0.825 by epoch 5 trains on


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8), min_size=3, max_size=8),
    st.sampled_from(["val_accuracy", "val_loss"]),
    st.sampled_from(["median", "halving"]),
)
def test_thresholds_never_loosen_from_one_checked_epoch_to_the_next(curves, metric, pruner):
    """Each reference value is a best so far, held to the end, so the bar a model must reach
    only rises (accuracy) or falls (loss) as it trains."""
    cfg = CladeConfig(
        pruner=pruner, pruner_warmup_epochs=1, pruner_startup_models=3, selection_metric=metric
    )
    checked = [t for t in prune_thresholds(cfg, curves) if not math.isnan(t)]
    steps = np.diff(checked)
    assert np.all(steps <= 1e-12) if metric == "val_loss" else np.all(steps >= -1e-12)


def test_halving_checks_only_rungs_and_keeps_the_top_third() -> None:
    cfg = CladeConfig(pruner="halving", pruner_warmup_epochs=1, halving_rate=3)
    curves = [[v / 10] * 9 for v in range(1, 7)]  # six flat curves 0.1 .. 0.6
    thresholds = prune_thresholds(cfg, curves)
    checked = [i for i, t in enumerate(thresholds) if not math.isnan(t)]
    assert checked == [0, 2, 8]  # epochs 1, 3, 9
    assert thresholds[0] == pytest.approx(np.quantile([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 2 / 3))
