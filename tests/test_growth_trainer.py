"""MonitorGrowth and grow_one: true per-batch values, statuses, test results, events."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from dlgene_core import CladeConfig, DataSpec, load_dataset
from dlgene_core.families import get_family
from dlgene_core.trainer import GrowJob, evaluate_predictions, grow_one

FAMILY = get_family("GAFC1")
CFG = CladeConfig(max_train_time=60.0, epochs=(1, 3), nb_units=(2, 64), batch_size=(8, 512))


def _genotype(**changes) -> dict:
    genotype = {
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": 100,  # 1,294 training samples: 12 full batches and one of 94
        "epochs": 2,
        "layers": [
            {"units": 32, "activation": "relu", "regularizer": "dropout", "reg_value": 0.2},
            {"units": 16, "activation": "tanh", "regularizer": "l2", "reg_value": 1e-4},
        ],
    }
    genotype.update(changes)
    return genotype


def _job(genotype: dict, cfg: CladeConfig = CFG, model_id: str = "g0-000") -> GrowJob:
    return GrowJob(model_id, 0, "GAFC1", genotype, seed=1234, config=cfg.to_dict())


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataSpec("digits"))


def _per_sample_loss(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    probs = np.clip(probs.astype(np.float64), 1e-7, 1 - 1e-7)
    return -np.log(probs[np.arange(len(y)), y])


def test_batch_values_are_the_true_per_batch_values(digits) -> None:
    """lr = 0 freezes the weights, and shuffle=False fixes each batch's samples, so every
    batch's own loss and accuracy are computable from one predict."""
    import keras

    from dlgene_core.growth import MonitorGrowth

    keras.utils.set_random_seed(0)
    cfg = CFG.updated(lr_bins=[(1e-6, 1e-5)])
    plain = {"units": 16, "activation": "tanh", "regularizer": "none", "reg_value": 0.0}
    genotype = _genotype(optimizer="sgd", learning_rate=0.0, layers=[plain])
    model = FAMILY.build(genotype, digits, cfg)
    x, y = digits.x_train[:50], digits.y_train[:50]  # batches of 8: 6 full, last of 2
    monitor = MonitorGrowth("m", 60.0, batch_size=8, n_samples=50)
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, callbacks=[monitor], verbose=0)
    table = monitor.batch_table()
    assert len(table) == 14 and list(table["batch"][:7]) == list(range(7))
    probs = model.predict(x, verbose=0)
    per_sample = _per_sample_loss(probs, y)
    correct = (probs.argmax(axis=1) == y).astype(float)
    bounds = [(i, min(i + 8, 50)) for i in range(0, 50, 8)]
    expected_loss = [per_sample[a:b].mean() for a, b in bounds] * 2
    expected_acc = [correct[a:b].mean() for a, b in bounds] * 2
    np.testing.assert_allclose(table["loss"], expected_loss, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(table["accuracy"], expected_acc, atol=1e-5)
    # the short last batch really differs from what Keras' running mean shows
    assert not math.isclose(expected_loss[6], per_sample[:50].mean(), rel_tol=1e-3)


def test_grow_one_ok_records_growth_and_test_results(digits) -> None:
    import keras

    events: list[dict] = []
    result = grow_one(_job(_genotype()), digits, listener=events.append)
    ph = result.phenotype
    assert ph["status"] == "ok" and ph["reason"] == ""
    assert ph["epochs_run"] == 2 and ph["batches_run"] == 26
    batches, epochs = result.batches, result.epochs
    assert list(batches["batch"]) == list(range(13)) * 2
    assert list(batches["epoch"]) == [0] * 13 + [1] * 13
    assert np.all(np.diff(batches["time"]) > 0)
    # each epoch's loss (Keras' sample-weighted mean) = the batch values weighted by size
    sizes = np.array([100] * 12 + [94])
    for epoch in (0, 1):
        rows = batches[batches["epoch"] == epoch]
        for metric in ("loss", "accuracy"):
            weighted = float((rows[metric].to_numpy() * sizes).sum() / sizes.sum())
            assert math.isclose(weighted, epochs[metric][epoch], rel_tol=1e-4, abs_tol=1e-5)
        assert rows["accuracy"].min() >= 0.0 and rows["accuracy"].max() <= 1.0
    assert ph["val_accuracy"] == epochs["val_accuracy"].iloc[-1] > 0.5
    assert ph["train_loss"] == epochs["loss"].iloc[-1]
    assert ph["n_params"] == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    assert ph["train_time"] > 0
    # events: one per batch and epoch, forwarded as they happen
    assert sum(e["event"] == "batch" for e in events) == 26
    assert [e["val_accuracy"] for e in events if e["event"] == "epoch"] == list(
        epochs["val_accuracy"]
    )
    # the trained model's .h5 reproduces the test numbers, misclassified and confusion
    path = io.BytesIO(result.model_h5)
    import h5py

    with h5py.File(path, "r") as f:
        assert "model_weights" in f
    tmp = pytest.importorskip("tempfile").NamedTemporaryFile(suffix=".h5")
    tmp.write(result.model_h5)
    tmp.flush()
    model = keras.models.load_model(tmp.name, compile=False, safe_mode=True)
    predicted = model.predict(digits.x_test, verbose=0).argmax(axis=1)
    tmp.close()
    accuracy = float(np.mean(predicted == digits.y_test))
    assert math.isclose(ph["test_accuracy"], accuracy)
    wrong = result.misclassified
    assert len(wrong) == round((1 - ph["test_accuracy"]) * len(digits.y_test))
    np.testing.assert_array_equal(wrong["index"], np.flatnonzero(predicted != digits.y_test))
    np.testing.assert_array_equal(wrong["predicted"], predicted[wrong["index"]])
    np.testing.assert_array_equal(wrong["true"], digits.y_test[wrong["index"]])
    confusion = result.confusion
    assert confusion.shape == (10, 10) and confusion.sum() == len(digits.y_test)
    assert math.isclose(np.trace(confusion) / confusion.sum(), ph["test_accuracy"])
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    pairs = wrong.groupby(["true", "predicted"]).size()
    for (t, p), count in pairs.items():
        assert off[t, p] == count
    assert off.sum() == len(wrong)


def test_same_job_same_results(digits) -> None:
    genotype = _genotype(epochs=1)
    a = grow_one(_job(genotype), digits)
    b = grow_one(_job(genotype), digits)
    np.testing.assert_array_equal(a.batches["loss"], b.batches["loss"])
    assert a.phenotype["test_accuracy"] == b.phenotype["test_accuracy"]


def test_uint8_features_train_exactly_like_float32() -> None:
    """A binary bag of words is kept as uint8 (a quarter of the memory and copy time);
    Keras casts it at the model input, so the results are the float32 ones, bit for bit."""
    from dlgene_core.data import make_dataset

    rng = np.random.default_rng(3)
    x = (rng.random((300, 40)) < 0.2).astype(np.uint8)
    y = (x[:, :5].sum(axis=1) % 3).astype(np.int64)
    spec = DataSpec("bag", validation_fraction=0.2, seed=0)
    as_bytes = make_dataset("bag", x[:240], y[:240], x[240:], y[240:], spec)
    as_floats = make_dataset(
        "bag", x[:240].astype(np.float32), y[:240], x[240:].astype(np.float32), y[240:], spec
    )
    assert as_bytes.x_train.dtype == np.uint8 and as_floats.x_train.dtype == np.float32
    genotype = _genotype(batch_size=32, epochs=3)
    a = grow_one(_job(genotype), as_bytes).phenotype
    b = grow_one(_job(genotype), as_floats).phenotype
    assert a["status"] == b["status"] == "ok"
    for key in ("train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy"):
        assert a[key] == b[key], key


def test_nan_loss_is_diverged(digits) -> None:
    linear = {"units": 64, "activation": "linear", "regularizer": "none", "reg_value": 0.0}
    genotype = _genotype(optimizer="sgd", learning_rate=1e6, epochs=3, layers=[linear] * 3)
    result = grow_one(_job(genotype), digits)
    ph = result.phenotype
    assert ph["status"] == "diverged"
    assert "NaN" in ph["reason"]
    assert ph["batches_run"] < 3 * 13  # stopped early
    assert math.isnan(ph["test_accuracy"])
    assert not np.isfinite(result.batches["loss"].iloc[-1])


def test_time_budget_is_timed_out(digits) -> None:
    cfg = CFG.updated(max_train_time=0.05, epochs=(1, 19))
    result = grow_one(_job(_genotype(batch_size=8, epochs=19), cfg), digits)
    ph = result.phenotype
    assert ph["status"] == "timed_out"
    assert "0.05 s budget" in ph["reason"]
    assert ph["epochs_run"] <= 1 and ph["batches_run"] < 19 * 162
    assert 0.0 <= ph["test_accuracy"] <= 1.0  # a timed-out model is still evaluated
    assert result.model_h5


def test_unbuildable_genotype_is_failed_with_reason(digits) -> None:
    bad = _genotype(
        layers=[{"units": 8, "activation": "bogus", "regularizer": "none", "reg_value": 0.0}]
    )
    result = grow_one(_job(bad), digits)
    ph = result.phenotype
    assert ph["status"] == "failed"
    assert "bogus" in ph["reason"] and "Error" in ph["reason"].split(":")[0]
    assert "Traceback" in ph["traceback"]
    assert result.model_h5 is None and result.batches.empty


def test_should_stop_gives_stopped(digits) -> None:
    calls = {"n": 0}

    def stop_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    result = grow_one(_job(_genotype()), digits, should_stop=stop_after_three)
    assert result.status == "stopped"
    assert result.phenotype["batches_run"] == 4


def test_evaluate_predictions_with_logits() -> None:
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0], [1.0, 0.0, 5.0], [0.0, 2.0, 1.0]])
    y = np.array([0, 1, 0, 2])
    out = evaluate_predictions(logits, y, 3, logits=True)
    assert out["test_accuracy"] == 0.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert math.isclose(out["test_loss"], -np.mean(np.log(probs[np.arange(4), y])))
    assert list(out["misclassified"]["index"]) == [2, 3]
    assert out["confusion"].tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 0]]
