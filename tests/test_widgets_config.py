"""ConfigEditor: controls edit the same CladeConfig, invalid values never reach it."""

from __future__ import annotations

import html

import pytest

from dlgene_core import CladeConfig
from dlgene_widgets import ConfigEditor


def test_one_control_per_field_with_css_classes():
    editor = ConfigEditor(CladeConfig())
    assert set(editor.controls) == set(CladeConfig.field_names())
    for name, control in editor.controls.items():
        assert f"dlgene-field-{name}" in control.widget._dom_classes
    assert "dlgene-config-editor" in editor._dom_classes
    assert "dlgene-btn-apply" in editor.apply_button._dom_classes
    assert "dlgene-btn-reset" in editor.reset_button._dom_classes
    assert "dlgene-config-error" in editor.error_text._dom_classes
    titles = editor.sections.titles
    assert titles[:7] == (
        "Run",
        "Data",
        "Dense genes",
        "Regularisation",
        "Selection & breeding",
        "Convolutional genes",
        "Recurrent genes",
    )


def test_apply_writes_into_the_same_config_object():
    cfg = CladeConfig()
    editor = ConfigEditor(cfg)
    editor.controls["population_size"].widget.value = 7
    editor.controls["epochs"].widget.value = (1, 3)
    editor.controls["activations"].widget.value = ("relu", "tanh")
    assert cfg.population_size == 50  # not before apply
    assert editor.pending["population_size"] == 7
    applied = editor.apply()
    assert set(applied) == {"population_size", "epochs", "activations"}
    assert cfg.population_size == 7 and cfg.epochs == (1, 3)
    assert cfg.activations == ["relu", "tanh"]


def test_invalid_value_shows_error_and_never_reaches_config():
    cfg = CladeConfig()
    editor = ConfigEditor(cfg)
    editor.controls["population_size"].widget.value = 1
    assert "population_size" in editor.errors
    assert "population_size" in editor.field_errors["population_size"].value
    assert "allowed: an integer >= 2" in html.unescape(editor.error_text.value)
    editor.controls["activations"].widget.value = ()
    assert "non-empty subset" in editor.errors["activations"]
    editor.apply()
    assert cfg.population_size == 50
    assert cfg.activations == CladeConfig().activations
    editor.controls["population_size"].widget.value = 4  # fixing it clears the error
    assert "population_size" not in editor.errors
    note = editor.field_errors["population_size"].value
    assert "#b00020" not in note and "population_size" not in note  # only the help is left
    assert editor.config.class_traits()["population_size"].help in note


def test_invalid_combinations_regularizers_and_float_range():
    cfg = CladeConfig()
    editor = ConfigEditor(cfg)
    editor.controls["regularizers"].sliders["l1"].value = 0.9  # sum != 1
    assert "regularizers" in editor.errors
    control = editor.controls["dropout_rate"]
    control.high.value = 0.05  # low 0.1 > high
    assert "dropout_rate" in editor.errors
    editor.controls["lr_bins"].widget.value = "[[0.001, "  # bad JSON
    assert "lr_bins" in editor.errors
    editor.apply()
    assert cfg.regularizers == CladeConfig().regularizers
    assert cfg.dropout_rate == CladeConfig().dropout_rate


def test_code_edits_reach_controls_and_reset_restores_defaults():
    cfg = CladeConfig()
    editor = ConfigEditor(cfg)
    cfg.population_size = 9
    cfg.nb_units = (4, 64)
    assert editor.controls["population_size"].widget.value == 9
    assert editor.controls["nb_units"].widget.value == (4, 64)
    assert not editor.pending  # an echo from the config is not an edit
    editor.controls["generations"].widget.value = 3
    editor.apply()
    editor.reset()
    assert cfg == CladeConfig()
    assert editor.controls["generations"].widget.value == CladeConfig().generations


def test_read_only_fields_and_bad_arguments():
    cfg = CladeConfig()
    editor = ConfigEditor(cfg, read_only=("kind",))
    assert editor.controls["kind"].widget.disabled
    with pytest.raises(ValueError, match="read_only"):
        ConfigEditor(cfg, read_only=("nope",))
    with pytest.raises(TypeError, match="config"):
        ConfigEditor({"population_size": 3})


def test_apply_reaches_the_clades_config_and_its_next_spawn(tmp_path):
    from dlgene_core import GAFC1

    clade = GAFC1(CladeConfig(population_size=4), data="digits", folder=tmp_path / "run")
    editor = ConfigEditor(clade.config, read_only=("kind",))
    editor.controls["population_size"].widget.value = 5
    editor.controls["population_size"].widget.value = 0  # invalid: never applied
    editor.apply()
    assert clade.config.population_size == 4
    editor.controls["population_size"].widget.value = 5
    editor.apply()
    assert clade.config.population_size == 5
    assert len(clade.spawn()) == 5
