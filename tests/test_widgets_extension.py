"""IPython extension: magics and the Clade display formatter, in an InteractiveShell."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from dlgene_core import GAFC1, Clade, CladeConfig
from dlgene_widgets import CladeDashboard, ConfigEditor, dashboard_for


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "dlgene_widgets")
    yield shell
    shell.run_line_magic("unload_ext", "dlgene_widgets")
    for name in ("c", "c2", "config", "cfg", "x"):
        shell.user_ns.pop(name, None)


@pytest.fixture
def clade(tmp_path):
    cfg = CladeConfig(population_size=3).updated(nb_units=(8, 16), nb_layers=(1, 1))
    clade = GAFC1(cfg, data="digits", folder=tmp_path / "run")
    clade.spawn()
    return clade


def test_dashboard_magic_for_a_variable_and_a_folder(shell, clade):
    shell.user_ns["c"] = clade
    shell.run_line_magic("dlgene_dashboard", "c")
    dash = dashboard_for(clade)
    assert isinstance(dash, CladeDashboard) and dash.clade is clade
    shell.run_line_magic("dlgene_dashboard", f"{clade.store.path} --as c2")
    reopened = shell.user_ns["c2"]
    assert isinstance(reopened, Clade) and reopened is not clade
    assert list(reopened.genotypes["model_id"]) == list(clade.genotypes["model_id"])
    assert dashboard_for(reopened).table.row_ids == list(clade.genotypes["model_id"])


def test_dashboard_magic_errors_name_the_problem(shell):
    shell.user_ns["x"] = 3
    with pytest.raises(UsageError, match="is a int"):
        shell.run_line_magic("dlgene_dashboard", "x")
    with pytest.raises(UsageError, match="neither a variable nor a folder"):
        shell.run_line_magic("dlgene_dashboard", "no_such_thing")
    with pytest.raises(UsageError, match="usage"):
        shell.run_line_magic("dlgene_dashboard", "")


def test_config_magic_edits_an_existing_or_new_config(shell, monkeypatch):
    shown = []
    monkeypatch.setattr("dlgene_widgets.extension.display", shown.append)
    cfg = CladeConfig()
    shell.user_ns["cfg"] = cfg
    shell.run_line_magic("dlgene_config", "cfg")
    editor = shown[-1]
    assert isinstance(editor, ConfigEditor) and editor.config is cfg
    shell.run_line_magic("dlgene_config", "")
    assert isinstance(shell.user_ns["config"], CladeConfig)
    assert shown[-1].config is shell.user_ns["config"]


def test_a_clade_displays_as_its_dashboard(shell, clade, monkeypatch):
    shown = []
    monkeypatch.setattr("dlgene_widgets.extension.display", shown.append)
    assert shell.display_formatter.ipython_display_formatter(clade) is True
    assert shown == [dashboard_for(clade)]
    shell.run_line_magic("unload_ext", "dlgene_widgets")
    assert shell.display_formatter.ipython_display_formatter(clade) is None
    assert "dlgene_dashboard" not in shell.magics_manager.magics["line"]
    shell.run_line_magic("load_ext", "dlgene_widgets")
