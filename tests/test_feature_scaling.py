"""The Normalization layer's statistics: numeric features standardised, 0/1 features centred.

A word seen in a handful of newswires has a standard deviation near 0.01; standardising it
turns its 1 into about 90 at the model's input (on Reuters that cost 3 points of test
accuracy), so new clades centre 0/1 features and folders made before keep their scaling."""

from __future__ import annotations

import numpy as np
import pytest

from dlgene_core import GAFC1, CladeConfig, DataSpec
from dlgene_core.data import make_dataset
from dlgene_core.operators import random_genotype


def _mixed(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Column 0: a rare 0/1 word (4 in 400); 1: a common one; 2: numeric; 3: constant."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 4), dtype=np.float32)
    x[:4, 0] = 1.0
    x[:, 1] = rng.integers(0, 2, size=n)
    x[:, 2] = rng.normal(5.0, 3.0, size=n)
    x[:, 3] = 7.0
    y = np.arange(n) % 2
    return x, y


def test_binary_features_are_centred_not_scaled() -> None:
    x, y = _mixed()
    data = make_dataset("a", x, y, x[:8], y[:8], DataSpec("a", scale_binary_features=False))
    mean, variance = data.feature_stats()
    train = data.x_train.astype(np.float64)
    np.testing.assert_allclose(mean, train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(variance, [1.0, 1.0, train[:, 2].var(), 1.0], rtol=1e-4)
    assert 5.0 < variance[2] < 15.0  # the numeric column is standardised (std near 3)


def test_folders_made_before_keep_scaling_binary_features() -> None:
    x, y = _mixed()
    spec = DataSpec("a", scale_binary_features=False)
    before = {k: v for k, v in spec.to_dict().items() if k != "scale_binary_features"}
    old = DataSpec.from_dict(before)
    assert old.scale_binary_features
    data = make_dataset("a", x, y, x[:8], y[:8], old)
    _, variance = data.feature_stats()
    rare = data.x_train[:, 0].astype(np.float64)
    assert variance[0] == pytest.approx(rare.var(), rel=1e-4) and variance[0] < 0.02


def test_a_new_clade_centres_a_rare_word_at_the_model_input(tmp_path) -> None:
    """The layer saved in the model: a rare word's 1 reaches the first Dense layer as about 1
    (about 10 with the old scaling), and the numeric column has unit spread."""
    import keras

    x, y = _mixed()
    clade = GAFC1(CladeConfig(seed=0), data=(x, y, x[:40], y[:40]), folder=tmp_path / "run")
    assert clade.data_spec.scale_binary_features is False
    data = clade.load_data()
    genotype = random_genotype(clade.family, clade.config, np.random.default_rng(0))
    genotype, _ = clade.family.repair(genotype, data)
    model = clade.family.build(genotype, data, clade.config)
    layer = model.get_layer("normalize")
    probe = keras.Model(model.inputs, layer.output)
    out = np.asarray(probe.predict(data.x_train, verbose=0))
    word_rows = data.x_train[:, 0] == 1
    assert word_rows.any() and np.abs(out[word_rows, 0] - 1.0).max() < 0.02
    assert out[:, 2].std() == pytest.approx(1.0, rel=1e-3)
