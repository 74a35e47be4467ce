"""Gene features and permutation importance on synthetic genotypes (no training)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlgene_core.importance import MIN_MODELS, categories, encode, gene_features, gene_importance


def synthetic_genotypes(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    layers = rng.integers(1, 4, size=n)
    return pd.DataFrame(
        {
            "model_id": [f"g0-{i:03d}" for i in range(n)],
            "generation": 0,
            "kind": "GAFC1",
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"], size=n),
            "learning_rate": rng.uniform(1e-4, 1e-2, size=n),
            "batch_size": rng.integers(8, 128, size=n),
            "nb_layers": layers,
            "layers_units": [list(rng.integers(8, 256, size=k)) for k in layers],
            "layers_activation": [list(rng.choice(["relu", "tanh"], size=k)) for k in layers],
            "parents": [[] for _ in range(n)],
        }
    )


def test_features_one_column_per_gene_lists_summarised():
    genotypes = synthetic_genotypes(6)
    features = gene_features(genotypes)
    assert list(features.index) == list(genotypes["model_id"])
    assert list(features.columns) == [
        "optimizer",
        "learning_rate",
        "batch_size",
        "nb_layers",
        "layers_units (mean)",
        "layers_activation (most common)",
    ]
    units = genotypes["layers_units"].iloc[2]
    assert features["layers_units (mean)"].iloc[2] == pytest.approx(float(np.mean(units)))
    assert features["optimizer"].dtype == object
    cats = categories(features)
    assert set(cats) == {"optimizer", "layers_activation (most common)"}
    codes = encode(features)
    assert codes.shape == (6, 6)
    first = features["optimizer"].iloc[0]
    assert codes[0, 0] == cats["optimizer"].index(first)


def test_most_common_breaks_ties_alphabetically():
    genotypes = pd.DataFrame(
        {"model_id": ["a", "b"], "acts": [["tanh", "relu"], ["tanh", "tanh", "relu"]]}
    )
    features = gene_features(genotypes)
    assert list(features["acts (most common)"]) == ["relu", "tanh"]


def test_the_gene_that_drives_the_metric_ranks_first():
    genotypes = synthetic_genotypes(60, seed=3)
    features = gene_features(genotypes)
    rng = np.random.default_rng(1)
    # the metric is the learning rate (scaled) plus a little noise: it alone matters
    metric = 0.5 + 40 * features["learning_rate"].to_numpy() + rng.normal(0, 0.01, 60)
    table = gene_importance(features, metric)
    assert list(table.columns) == ["gene", "importance", "std"]
    assert table["gene"].iloc[0] == "learning_rate"
    assert table["importance"].iloc[0] > 0.5
    assert table["importance"].iloc[0] > 5 * max(table["importance"].iloc[1], 0.01)


def test_a_categorical_gene_can_drive_the_metric():
    genotypes = synthetic_genotypes(60, seed=5)
    features = gene_features(genotypes)
    metric = features["optimizer"].map({"adam": 0.9, "sgd": 0.5, "rmsprop": 0.7}).to_numpy()
    table = gene_importance(features, metric.astype(float))
    assert table["gene"].iloc[0] == "optimizer"


def test_missing_metrics_are_left_out_and_too_few_models_refused():
    features = gene_features(synthetic_genotypes(8))
    metric = np.full(8, np.nan)
    metric[: MIN_MODELS - 1] = 0.5
    with pytest.raises(ValueError, match=f"at least {MIN_MODELS}"):
        gene_importance(features, metric)
    with pytest.raises(ValueError, match="one per row"):
        gene_importance(features, np.zeros(3))


def test_constant_metric_gives_zero_importance():
    features = gene_features(synthetic_genotypes(10))
    table = gene_importance(features, np.full(10, 0.7))
    assert (table["importance"] == 0).all()
