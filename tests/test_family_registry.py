"""The family registry is the one list of kinds: a toy family registered from one file
(tests/toy_family.py) works through the config, the package exports, a clade, the CLI
and the config panel without any other edit."""

from __future__ import annotations

import pytest
import toy_family

import dlgene_core
from dlgene_core import Clade, CladeConfig, ConfigError
from dlgene_core.cli import main
from dlgene_core.families import family_names, unregister_family


@pytest.fixture
def toy():
    toy_family.register()
    yield "GATOY1"
    unregister_family("GATOY1")


def test_unregistered_kind_is_refused_with_the_registered_ones():
    with pytest.raises(ConfigError, match=r"kind.*GATOY1.*GACNN1, GAFC1, GARNN1"):
        CladeConfig(kind="GATOY1")
    with pytest.raises(AttributeError, match="GATOY1"):
        dlgene_core.GATOY1  # noqa: B018


def test_builtin_kinds_come_from_the_registry():
    assert family_names() == ["GACNN1", "GAFC1", "GARNN1"]
    assert set(dlgene_core.CLADE_CLASSES) == set(family_names())
    assert dlgene_core.GACNN1.kind == "GACNN1"
    assert "GARNN1" in dlgene_core.__all__


def test_toy_family_through_config_exports_and_a_clade(toy, tmp_path):
    cfg = CladeConfig(kind=toy).updated(population_size=2, epochs=(1, 1), nb_units=(4, 8))
    cls = dlgene_core.GATOY1
    assert cls.kind == toy and "Toy clade" in cls.__doc__
    clade = cls(cfg, data="wine", folder=tmp_path / "run")
    clade.evolve(generations=1)
    table = clade.phenotypes
    assert len(table) == 2 and set(table["status"]) == {"ok"} and set(table["kind"]) == {toy}
    model = clade.load_model(table["model_id"].iloc[0])
    assert "toy_input_norm" in [layer.name for layer in model.layers]
    reopened = Clade.open(tmp_path / "run")
    assert type(reopened) is cls


def test_toy_family_through_the_cli(toy, tmp_path, capsys):
    folder = tmp_path / "cli"
    args = ["evolve", "--data", "wine", "--out", str(folder), "--kind", toy, "--quiet"]
    args += ["--generations", "1", "--set", "population_size=2", "--set", "epochs=1,1"]
    assert main(args) == 0
    assert Clade.open(folder).config.kind == toy
    with pytest.raises(SystemExit):
        main(["evolve", "--help"])
    assert toy in capsys.readouterr().out


def test_toy_family_in_the_config_panel(toy):
    from dlgene_widgets.config_editor import ConfigEditor, grouped_fields

    editor = ConfigEditor(CladeConfig())
    assert toy in editor.controls["kind"].widget.options
    editor.controls["kind"].widget.value = toy
    editor.apply()
    assert editor.config.kind == toy
    # sections come from trait metadata: every field has exactly one section
    placed = [f for names in grouped_fields().values() for f in names]
    assert sorted(placed) == CladeConfig.field_names()
