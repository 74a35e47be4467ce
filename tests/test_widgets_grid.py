"""PopulationGrid (ipydatagrid): stable columns, best first, filters, selection, CSV export."""

from __future__ import annotations

import pandas as pd
import pytest
from analysis_helpers import fake_run

from dlgene_core import GAFC1, CladeConfig
from dlgene_widgets import PopulationGrid
from dlgene_widgets.population_grid import ALL, default_columns, grid_columns, grid_frame
from dlgene_widgets.selection import ModelSelection


def test_columns_are_known_before_any_model_finishes(tmp_path):
    clade = GAFC1(CladeConfig(population_size=4), data="digits", folder=tmp_path / "r")
    empty = PopulationGrid(clade)  # not even spawned
    columns = list(empty.grid.data.columns)
    assert columns == default_columns(clade)
    assert {"status", "val_accuracy", "n_params", "layers_units"} <= set(columns)
    assert empty.grid.data.empty
    clade.spawn()
    empty.refresh()
    assert list(empty.grid.data.columns) == columns  # the same columns, now with rows
    assert set(empty.grid.data["status"]) == {"pending"}
    assert empty.grid.data.index.name == "model_id"  # the pinned row header
    assert set(grid_columns(clade)) >= set(clade.genotypes.columns) - {"model_id", "kind"}


def test_rows_open_best_first_with_the_grid_sort(tmp_path):
    clade = fake_run(tmp_path / "r")
    grid = PopulationGrid(clade)
    accuracy = grid.frame["val_accuracy"].to_numpy()
    finite = accuracy[~pd.isna(accuracy)]
    assert list(finite) == sorted(finite, reverse=True)
    assert pd.isna(accuracy[-1])  # failed models (no metric) last
    assert grid.grid._transforms == [{"type": "sort", "column": "val_accuracy", "desc": True}]
    loss = fake_run(tmp_path / "loss", objectives=[("val_loss", "min")])
    by_loss = PopulationGrid(loss)
    values = by_loss.frame["val_loss"].dropna().to_numpy()
    assert list(values) == sorted(values)
    assert by_loss.grid._transforms[0]["desc"] is False


def test_status_parents_pruned_and_running(tmp_path):
    statuses = ["ok", "pruned", "diverged", "ok", "timed_out", "ok"]
    clade = fake_run(tmp_path / "r", n=6, generations=1, statuses=statuses)
    clade.running_models = []
    clade.select_parents(model_ids=["g0-003", "g0-000"])
    grid = PopulationGrid(clade)
    frame = grid.frame
    assert frame.loc["g0-001", "status"] == "pruned"
    assert frame.loc["g0-003", "parent"] == "parent" and frame.loc["g0-001", "parent"] == ""
    renderer = grid.grid.renderers["status"]
    assert "'pruned' ? '#9467bd'" in renderer.text_color.value
    assert "'parent'" in grid.grid.renderers["parent"].background_color.value


def test_column_chooser_and_generation_picker(tmp_path):
    clade = fake_run(tmp_path / "r")
    grid = PopulationGrid(clade)
    grid.column_chooser.value = ["status", "learning_rate"]
    assert list(grid.grid.data.columns) == ["status", "learning_rate", "val_accuracy"]
    with pytest.raises(ValueError, match="visible_columns"):
        grid.visible_columns = ["nope"]
    grid.generation_picker.value = 1
    assert set(grid.grid.data.index) == {f"g1-{i:03d}" for i in range(8)}
    grid.generation_picker.value = ALL
    assert len(grid.grid.data) == 16


def test_filtered_ids_filter_the_rows_and_a_row_click_selects(tmp_path):
    selection = ModelSelection()
    clade = fake_run(tmp_path / "r")
    grid = PopulationGrid(clade, selection)
    selection.filtered_ids = ["g0-001", "g1-004"]
    assert sorted(grid.row_ids) == ["g0-001", "g1-004"]
    assert sorted(grid.grid.data.index) == ["g0-001", "g1-004"]
    grid._on_cell_click({"primary_key_row": 1, "region": "body"})  # as the front end sends
    assert selection.model_id == grid.row_ids[1]
    # two rows: the grid shrinks to them (header + 2 rows + scrollbar, at least 120 px)
    assert grid.grid.layout.height == "120px"
    selection.filtered_ids = []
    assert len(grid.row_ids) == 16
    assert grid.grid.layout.height == f"{20 + 16 * 22 + 18}px"  # 16 rows fit, no scrolling


def test_csv_export_writes_the_rows_shown(tmp_path):
    clade = fake_run(tmp_path / "r")
    grid = PopulationGrid(clade)
    path = grid.export_csv()
    assert path.parent == clade.store.path / "exports"
    table = pd.read_csv(path)
    assert list(table["model_id"]) == grid.row_ids
    assert set(grid_columns(clade)) <= set(table.columns)  # every column, not only those shown
    grid.grid._visible_rows = [2, 0]  # the browser sorted / filtered to two rows
    table = pd.read_csv(grid.export_csv(tmp_path / "two.csv"))
    assert list(table["model_id"]) == [grid.row_ids[2], grid.row_ids[0]]
    assert "download='two.csv'" in grid.export_link.value
    assert "data:text/csv;base64," in grid.export_link.value


def test_a_thousand_rows_build(tmp_path):
    """Builds the frame and the grid for 1,000 models (speed is for benchmarks, not here)."""
    clade = fake_run(tmp_path / "big", n=100, generations=10)
    frame = grid_frame(clade)
    assert len(frame) == 1000 and frame.index.is_unique
    grid = PopulationGrid(clade)
    assert len(grid.grid.data) == 1000
    assert grid.grid.layout.height == "480px"  # scrolls past 20 rows; panels stay in reach
    assert list(grid.grid.data.columns) == default_columns(clade)


def test_run_frame_is_every_generation_frame_at_once(tmp_path):
    """The grid's one-merge frame of the run equals the per-generation frames stacked."""
    import pandas as pd
    from analysis_helpers import fake_run

    from dlgene_widgets.population_table import population_frame, run_frame

    clade = fake_run(tmp_path / "run")
    clade.select_parents(model_ids=["g0-001", "g0-002"])  # the current generation's
    clade.add_selections(  # a stored choice in generation 1
        pd.DataFrame(
            [{"generation": 1, "model_id": "g1-003", "reason": "manual", "metric": "x", "value": 1}]
        )
    )
    stacked = pd.concat([population_frame(clade, g) for g in (0, 1)], ignore_index=True)
    together = run_frame(clade)
    assert list(together["model_id"]) == list(stacked["model_id"])
    assert sorted(together.loc[together["parent"], "model_id"]) == ["g0-001", "g0-002", "g1-003"]
    pd.testing.assert_frame_equal(together[stacked.columns], stacked, check_dtype=False)


def test_text_genes_get_text_renderers_once_models_exist(tmp_path):
    """Before spawn every column is NaN (numeric); once genotypes exist the text genes must
    lose the number format, or the browser draws them as NaN."""
    from dlgene_core import GAFC1, CladeConfig

    clade = GAFC1(CladeConfig(population_size=3), data="digits", folder=tmp_path / "run")
    grid = PopulationGrid(clade)
    assert "optimizer" in grid.grid.renderers  # all-NaN columns: formatted as numbers
    clade.spawn()
    grid.refresh()
    assert "optimizer" not in grid.grid.renderers
    assert "n_params" in grid.grid.renderers
