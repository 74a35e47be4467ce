"""The ``objectives`` config field: default from selection_metric, validation, JSON, --set."""

from __future__ import annotations

import pytest

from dlgene_core import CladeConfig, ConfigError
from dlgene_core.config import field_info, objectives_of

TWO = [("val_accuracy", "max"), ("n_params", "min")]


def test_empty_objectives_mean_the_selection_metric_alone() -> None:
    assert CladeConfig().objectives == []
    assert objectives_of(CladeConfig()) == [("val_accuracy", "max")]
    assert objectives_of(CladeConfig(selection_metric="val_loss")) == [("val_loss", "min")]


def test_objectives_are_pairs_and_survive_json_and_set() -> None:
    cfg = CladeConfig(objectives=[["val_accuracy", "max"], ["n_params", "min"]])
    assert cfg.objectives == TWO
    assert objectives_of(cfg) == TWO
    again = CladeConfig.from_json(cfg.to_json())
    assert again.objectives == TWO and again == cfg
    short = CladeConfig().update_from_strings(["objectives=val_accuracy:max,n_params:min"])
    assert short.objectives == TWO
    as_json = CladeConfig().update_from_strings(['objectives=[["train_time", "min"]]'])
    assert objectives_of(as_json) == [("train_time", "min")]
    assert field_info("objectives")["group"] == "Selection & breeding"


@pytest.mark.parametrize(
    "value",
    [
        [["test_accuracy", "max"]],  # the test split never selects
        [["val_accuracy", "up"]],
        [["model_id", "min"]],
        [["n_params", "min"], ["n_params", "max"]],
        [["val_accuracy"]],
        "val_accuracy",
    ],
)
def test_bad_objectives_name_the_field(value) -> None:
    with pytest.raises(ConfigError) as info:
        CladeConfig(objectives=value)
    assert info.value.field == "objectives"
    assert info.value.allowed


@pytest.mark.parametrize("item", ["objectives=val_loss", "objectives=val_loss:down"])
def test_bad_objectives_from_the_command_line(item) -> None:
    with pytest.raises(ConfigError) as info:
        CladeConfig().update_from_strings([item])
    assert info.value.field == "objectives"
