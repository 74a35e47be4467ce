"""CladeConfig: the original's defaults, validation errors, JSON round trip, --set strings."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dlgene_core import CladeConfig, ConfigError
from dlgene_core.config import ALL_ACTIVATIONS, ALL_OPTIMIZERS

ORIGINAL_ACTIVATIONS = [
    "softmax",
    "elu",
    "softplus",
    "softsign",
    "relu",
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "linear",
]
ORIGINAL_OPTIMIZERS = ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"]


def test_defaults_mirror_the_original() -> None:
    cfg = CladeConfig.from_preset("classic")  # CladeConfig() is the "default" preset now
    assert cfg.population_size == 50
    assert cfg.max_train_time == 120.0
    assert [tuple(b) for b in cfg.lr_bins] == [(1e-3, 1e-2), (1e-2, 1e-1), (1e-1, 0.5)]
    assert cfg.nb_layers == (1, 12)
    assert cfg.nb_units == (2, 512)
    assert cfg.activations == ORIGINAL_ACTIVATIONS
    assert cfg.final_activation == "softmax"
    assert cfg.optimizers == ORIGINAL_OPTIMIZERS
    assert cfg.batch_size == (8, 512)
    assert cfg.epochs == (2, 19)
    assert cfg.regularizers == {"l1": 0.2, "l2": 0.3, "dropout": 0.5}
    assert all(isinstance(v, float) for v in cfg.regularizers.values())  # data, not strings
    assert 0.0 < cfg.regularizer_chance <= 1.0
    assert cfg.top_tier == 0.2
    assert cfg.random_tier == 0.1
    assert cfg.mutate_prob == 0.2
    assert cfg.max_mutations == 2
    assert cfg.selection_metric == "val_accuracy"
    assert 0.0 < cfg.validation_fraction < 0.9
    assert cfg.seed == 0
    assert cfg.generations >= 1
    assert cfg.lr_ranges == {} and not cfg.normalize and cfg.pruner == "none"


def test_default_preset_space_trains() -> None:
    cfg = CladeConfig()
    assert cfg == CladeConfig.from_preset("default")
    assert cfg.activations == ["relu", "elu", "selu", "gelu", "swish", "tanh"]
    assert cfg.lr_ranges == {"adaptive": (1e-4, 1e-2), "sgd": (1e-3, 3e-1)}
    assert cfg.normalize and cfg.stratify and cfg.pruner == "median"
    assert cfg.early_stopping_patience == 3 and cfg.strategy == "tiers"
    assert CladeConfig.from_preset("classic", seed=4).seed == 4
    with pytest.raises(ConfigError, match=r"preset.*classic, default"):
        CladeConfig.from_preset("modern")
    with pytest.raises(ConfigError, match="lr_ranges"):
        CladeConfig(lr_ranges={"adam": (1e-3, 1e-2)})
    with pytest.raises(ConfigError, match="strategy"):
        CladeConfig(strategy="grid")


def test_learning_rates_follow_the_optimizer_family() -> None:
    from dlgene_core.families import get_family
    from dlgene_core.operators import mutate, random_genotype, violations

    family, cfg = get_family("GAFC1"), CladeConfig()
    rng = np.random.default_rng(0)
    for _ in range(300):
        genotype = random_genotype(family, cfg, rng)
        low, high = (1e-3, 3e-1) if genotype["optimizer"] == "sgd" else (1e-4, 1e-2)
        assert low <= genotype["learning_rate"] <= high
        mutant, _ = mutate(family, genotype, cfg, rng, 2)
        assert violations(family, mutant, cfg) == []


@pytest.mark.parametrize(
    ("field", "value", "allowed_part"),
    [
        ("population_size", 1, ">= 2"),
        ("max_train_time", 0.0, "> 0"),
        ("max_train_time", math.inf, "finite"),
        ("nb_layers", (5, 2), "low <= high"),
        ("nb_layers", (0, 3), "1 <= low"),
        ("nb_units", (2, 100000), "<= 8192"),
        ("epochs", (0, 4), "1 <= low"),
        ("batch_size", (16, 8), "low <= high"),
        ("activations", ["relu", "swoosh"], "subset of"),
        ("activations", [], "non-empty"),
        ("optimizers", ["adam", "lbfgs"], "subset of"),
        ("final_activation", "relu", "softmax"),
        ("top_tier", 1.5, "[0, 1]"),
        ("random_tier", -0.1, "[0, 1]"),
        ("mutate_prob", 2.0, "[0, 1]"),
        ("max_mutations", 0, ">= 1"),
        ("regularizers", {"l1": 0.5, "l2": 0.2}, "summing to 1"),
        ("regularizers", {"l3": 1.0}, "l1"),
        ("lr_bins", [], "at least one"),
        ("lr_bins", [(0.0, 0.1)], "0 < low"),
        ("selection_metric", "test_accuracy", "val_accuracy"),
        ("validation_fraction", 0.95, "< 0.9"),
        ("kind", "GAXX", "GAFC1"),
    ],
)
def test_bad_values_name_field_value_and_allowed(field, value, allowed_part) -> None:
    cfg = CladeConfig()
    before = getattr(cfg, field)
    with pytest.raises(ConfigError) as info:
        setattr(cfg, field, value)
    err = info.value
    assert err.field == field
    assert allowed_part in err.allowed
    text = str(err)
    assert repr(field) in text
    assert allowed_part in text
    # the value is named too (lists/tuples printed as given)
    assert str(value).strip("[]()").split(",")[0] in text
    assert getattr(cfg, field) == before  # a rejected value never lands


def test_constructor_validates_too() -> None:
    with pytest.raises(ConfigError, match="population_size"):
        CladeConfig(population_size=0)


def test_json_round_trip(tmp_path) -> None:
    cfg = CladeConfig(population_size=7, seed=3).updated(
        nb_units=(4, 32),
        epochs=(1, 3),
        lr_bins=[(1e-4, 1e-3)],
        activations=["relu", "tanh"],
        regularizers={"l2": 0.25, "dropout": 0.75},
        max_train_time=9.5,
    )
    text = cfg.to_json()
    data = json.loads(text)
    assert data["nb_units"] == [4, 32]
    assert data["lr_bins"] == [[1e-4, 1e-3]]
    back = CladeConfig.from_json(text)
    assert back == cfg
    assert back.nb_units == (4, 32)  # tuples come back as tuples
    assert back.lr_bins == [(1e-4, 1e-3)]
    path = tmp_path / "config.json"
    cfg.to_json(path)
    assert CladeConfig.from_json(path) == cfg
    assert CladeConfig.from_json(path) != CladeConfig()


def test_from_dict_rejects_unknown_fields() -> None:
    with pytest.raises(ConfigError) as info:
        CladeConfig.from_dict({"population_sise": 5})
    assert info.value.field == "population_sise"
    assert "population_size" in info.value.allowed


def test_updated_is_a_copy() -> None:
    cfg = CladeConfig()
    new = cfg.updated(population_size=9, epochs=(1, 2))
    assert (new.population_size, new.epochs) == (9, (1, 2))
    assert (cfg.population_size, cfg.epochs) == (50, (2, 19))
    with pytest.raises(ConfigError, match="epochs"):
        cfg.updated(epochs=(3, 1))


def test_update_from_strings() -> None:
    cfg = CladeConfig().update_from_strings(
        [
            "population_size=8",
            "max_train_time=30",
            "epochs=1,3",
            "nb_units=[4, 64]",
            "activations=relu,tanh",
            "optimizers=adam",
            "deterministic=false",
            "selection_metric=val_loss",
            "lr_bins=[[0.001, 0.01]]",
        ]
    )
    assert cfg.population_size == 8
    assert cfg.max_train_time == 30.0 and isinstance(cfg.max_train_time, float)
    assert cfg.epochs == (1, 3)
    assert cfg.nb_units == (4, 64)
    assert cfg.activations == ["relu", "tanh"]
    assert cfg.optimizers == ["adam"]
    assert cfg.deterministic is False
    assert cfg.selection_metric == "val_loss"
    assert cfg.lr_bins == [(0.001, 0.01)]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ("population_size=abc", "population_size"),
        ("population_size=2.5", "population_size"),
        ("no_such_field=1", "no_such_field"),
        ("population_size", "--set"),
        ("=5", "--set"),
        ("epochs=9,3", "epochs"),
        ("deterministic=maybe", "deterministic"),
    ],
)
def test_update_from_strings_errors(item, field) -> None:
    with pytest.raises(ConfigError) as info:
        CladeConfig().update_from_strings([item])
    assert info.value.field == field
    assert info.value.allowed


def test_every_option_list_is_known() -> None:
    assert set(ORIGINAL_ACTIVATIONS) <= set(ALL_ACTIVATIONS)
    assert set(ORIGINAL_OPTIMIZERS) == set(ALL_OPTIMIZERS)
    cfg = CladeConfig(activations=["relu", "relu", "tanh"])
    assert cfg.activations == ["relu", "tanh"]  # duplicates dropped, order kept


def test_regularizers_keep_one_order_through_config_json(tmp_path):
    """config.json sorts keys; the regularizer draw must not change with the order."""
    cfg = CladeConfig(regularizers={"dropout": 0.5, "l2": 0.3, "l1": 0.2})
    assert list(cfg.regularizers) == ["l1", "l2", "dropout"]
    cfg.to_json(tmp_path / "config.json")
    again = CladeConfig.from_json(tmp_path / "config.json")
    assert list(again.regularizers) == ["l1", "l2", "dropout"]
    assert again.regularizers == cfg.regularizers
