"""Overview scatter, parallel coordinates and gene importance: state, front and selection."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_helpers import fake_run

from dlgene_core import GAFC1, CladeConfig
from dlgene_core.pareto import dominates
from dlgene_widgets import Analysis, OverviewScatter, PopulationGrid
from dlgene_widgets.overview import front_ids, short_genotype
from dlgene_widgets.parallel_coords import KEEP_NONE
from dlgene_widgets.selection import ModelSelection, model_colour

TWO = [("val_accuracy", "max"), ("n_params", "min")]


@pytest.fixture
def two_objectives(tmp_path):
    return fake_run(tmp_path / "two", objectives=TWO)


@pytest.fixture
def one_objective(tmp_path):
    return fake_run(tmp_path / "one")


def _drawn(clade, scatter):
    """model id -> (x, y) as drawn."""
    points = zip(scatter.scatter.x, scatter.scatter.y, strict=True)
    return dict(zip(scatter.ids, points, strict=True))


def test_one_point_per_finished_model_with_the_right_x_and_y(one_objective):
    clade = one_objective
    scatter = OverviewScatter(clade)
    phenotypes = clade.phenotypes.set_index("model_id")
    with_metric = phenotypes[phenotypes["val_accuracy"].notna()]
    assert len(with_metric) == 14 and len(phenotypes) == 16  # 2 failed: no metric
    assert sorted(scatter.ids) == sorted(with_metric.index)
    for x in ("generation", "n_params", "train_time"):
        scatter.x_picker.value = x
        drawn = _drawn(clade, scatter)
        for model_id, (px, py) in drawn.items():
            assert px == pytest.approx(float(with_metric.loc[model_id, x]))
            assert py == pytest.approx(float(with_metric.loc[model_id, "val_accuracy"]))
        assert scatter.x_axis.label == x
    assert "2 without a val_accuracy" in scatter.note.value
    assert scatter.scatter.names[0].startswith(scatter.ids[0] + ": ")


def test_two_objectives_open_on_the_pareto_front_which_is_non_dominated(two_objectives):
    clade = two_objectives
    scatter = OverviewScatter(clade)
    assert scatter.x_column == "n_params"  # the second objective
    assert scatter.front_line.labels == ["Pareto front"]
    assert sorted(scatter.front) == sorted(clade.pareto()["model_id"])
    drawn = _drawn(clade, scatter)
    points = {m: np.array([-y, x]) for m, (x, y) in drawn.items()}  # minimised
    usable = set(clade.phenotypes.query("status == 'ok'")["model_id"])
    for member in scatter.front:
        assert not any(dominates(points[o], points[member]) for o in usable if o != member)
    for other in usable - set(scatter.front):
        assert any(dominates(points[m], points[other]) for m in scatter.front)
    xs = list(scatter.front_line.x)
    assert xs == sorted(xs) and len(xs) == len(scatter.front)


def test_front_is_computed_once_per_set_of_finished_models(two_objectives):
    """Switching x back and forth, or a refresh with no newly finished model, sorts
    nothing again; a model finishing does."""
    clade = two_objectives
    scatter = OverviewScatter(clade)
    computed = []
    original = scatter._compute_front
    scatter._compute_front = lambda x: computed.append(x) or original(x)
    front = scatter.front
    scatter.x_picker.value = "generation"
    scatter.x_picker.value = "n_params"
    scatter.refresh()
    assert computed == ["generation"] and scatter.front == front
    better = clade.phenotypes["model_id"].iloc[0]
    table = clade.phenotypes.copy()
    table.loc[table["model_id"] == better, ["val_accuracy", "n_params"]] = [0.999, 1.0]
    clade.phenotypes = table
    scatter.refresh()
    assert computed == ["generation", "n_params"] and scatter.front == [better]


def test_one_objective_draws_the_best_so_far_front(one_objective):
    scatter = OverviewScatter(one_objective)
    scatter.x_column = "generation"
    assert scatter.front_line.labels == ["best-so-far front"]
    frame = scatter.frame
    best = frame.loc[frame["val_accuracy"].idxmax()]
    # along generations the front ends at the best model (an earlier one if tied)
    assert scatter.front[-1] == best["model_id"] or frame.set_index("model_id").loc[
        scatter.front[-1], "val_accuracy"
    ] == pytest.approx(best["val_accuracy"])
    ys = [frame.set_index("model_id").loc[m, "val_accuracy"] for m in scatter.front]
    assert ys == sorted(ys)  # rising: each front member beats every earlier x


def test_front_ids_hand_case():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "model_id": ["a", "b", "c", "d"],
            "status": ["ok", "ok", "ok", "failed"],
            "n_params": [10.0, 20.0, 15.0, 1.0],
            "val_accuracy": [0.5, 0.9, 0.4, 0.99],
        }
    )
    assert front_ids(frame, "n_params", "val_accuracy", "max") == ["a", "b"]


def test_colour_by_status_and_generation(one_objective):
    scatter = OverviewScatter(one_objective)
    assert list(scatter.scatter.color) == list(scatter.frame["generation"].astype(float))
    scatter.colour_picker.value = "status"
    assert scatter.scatter.color is None
    assert set(scatter.scatter.colors) == {"#2ca02c"}  # all drawn models are ok
    assert not scatter.colour_axis.visible


def test_colour_bar_spans_the_runs_generations_before_any_model_finishes(tmp_path):
    """The colour domain is fixed by the run's generations, so the bar has ticks on an empty
    run (bqplot drew them at translate(0,NaN) from an empty domain) and a colour stays with
    its generation as later generations arrive."""
    empty = GAFC1(
        CladeConfig(population_size=4, generations=3, seed=1),
        data="digits",
        folder=tmp_path / "empty",
    )
    scatter = OverviewScatter(empty)
    scale = scatter.scatter.scales["color"]
    assert (scale.min, scale.max) == (0.0, 2.0)
    assert scatter.colour_axis.tick_values.tolist() == [0, 1, 2]
    running = OverviewScatter(fake_run(tmp_path / "run", generations=2))  # config: 5
    scale = running.scatter.scales["color"]
    assert (scale.min, scale.max) == (0.0, 4.0)
    assert set(running.scatter.color) == {0.0, 1.0}


def test_colour_bar_ticks_stay_few_on_a_long_run(tmp_path):
    clade = GAFC1(
        CladeConfig(population_size=4, generations=40, seed=1),
        data="digits",
        folder=tmp_path / "long",
    )
    ticks = OverviewScatter(clade).colour_axis.tick_values.tolist()
    assert ticks[0] == 0 and len(ticks) <= 8 and ticks == sorted(set(ticks))


def test_click_selects_everywhere_and_grid_follows(one_objective, tmp_path):
    selection = ModelSelection()
    scatter = OverviewScatter(one_objective, selection)
    grid = PopulationGrid(one_objective, selection)
    target = scatter.ids[3]
    scatter.scatter.selected = [3]  # what a click does (interactions={'click': 'select'})
    assert selection.model_id == target
    assert grid.selected_ids == [target]
    row = list(grid.frame.index).index(target)
    assert grid.grid.selections == [
        {"r1": row, "c1": 0, "r2": row, "c2": len(grid.frame.columns) - 1}
    ]
    grid.select_row(0)  # a click on the grid's first row selects in the scatter
    assert list(scatter.scatter.selected) == [scatter.ids.index(grid.frame.index[0])]


def test_parallel_coordinates_lines_colours_and_brush_filters_the_grid(one_objective):
    analysis = Analysis(one_objective)
    parallel, selection = analysis.parallel, analysis.selection
    grid = PopulationGrid(one_objective, selection)
    names = [d["name"] for d in parallel.dimensions]
    assert names[-1] == "val_accuracy" and "optimizer" in names
    assert np.asarray(parallel.lines.y).shape == (14, len(names))
    assert parallel.lines.colors == [model_colour(m) for m in parallel.ids]
    positions = np.asarray(parallel.lines.y)
    assert positions.min() >= 0 and positions.max() <= 1
    optimizer = next(d for d in parallel.dimensions if d["name"] == "optimizer")
    assert optimizer["categories"] == sorted(optimizer["categories"])
    accuracy = one_objective.phenotypes.set_index("model_id")["val_accuracy"]
    parallel.brush_range(0.7, 1.0)  # keep models with val_accuracy in [0.7, 1]
    kept = sorted(m for m in parallel.ids if accuracy[m] >= 0.7)
    assert sorted(parallel.kept_ids) == kept and 0 < len(kept) < 14
    assert sorted(selection.filtered_ids) == kept
    assert sorted(grid.row_ids) == kept
    assert "kept by the brush" in grid.summary.value
    parallel.brush_range(2.0, 3.0)  # nothing inside: the grid shows no model
    assert selection.filtered_ids == KEEP_NONE and grid.row_ids == []
    parallel.clear_brush()
    assert selection.filtered_ids == [] and len(grid.row_ids) == 16
    parallel.brush.selected = np.array([0.4, 0.4])  # a click (or the browser after a reset)
    assert selection.filtered_ids == [] and len(grid.row_ids) == 16  # is no brush
    # a drag in the browser filters once, when it ends (its updates may arrive late)
    parallel.brush.brushing = True
    parallel.brush.selected = np.array([0.8, 1.0])
    assert selection.filtered_ids == [] and len(grid.row_ids) == 16
    parallel.brush.brushing = False
    assert sorted(selection.filtered_ids) == sorted(
        m for m in parallel.ids if parallel.positions[parallel.ids.index(m), -1] >= 0.8
    )
    assert 0 < len(grid.row_ids) < 16


def test_gene_importance_needs_five_models_then_draws_bars(tmp_path, one_objective):
    few = fake_run(tmp_path / "few", n=4, generations=1)
    analysis = Analysis(few)
    analysis.tabs.selected_index = 2  # the forest is fitted only while its tab is shown
    assert "at least 5" in analysis.importance.note.value
    assert len(analysis.importance.bars.y) == 0
    analysis = Analysis(one_objective)
    importance = analysis.importance
    importance.refresh()
    assert not importance.active and importance.table.empty  # hidden tab: nothing fitted
    analysis.tabs.selected_index = 2
    importance._throttle.flush_now()
    assert importance.active
    assert len(importance.table) == 9  # one bar per gene of GAFC1
    assert len(importance.bars.x) == 9
    assert np.all(np.asarray(importance.bars.y) >= 0)


def test_only_the_tab_on_screen_holds_its_panel(one_objective):
    """A figure in a hidden tab is laid out at width 0 by the browser; each panel is
    mounted when its tab opens and unmounted when another one does."""
    analysis = Analysis(one_objective)
    held = lambda: [list(h.children) for h in analysis.holders]  # noqa: E731
    assert held() == [[analysis.overview], [], []]
    analysis.tabs.selected_index = 1
    assert held() == [[], [analysis.parallel], []]
    assert analysis.parallel.active and not analysis.overview.active
    analysis.tabs.selected_index = 0
    assert held() == [[analysis.overview], [], []] and not analysis.parallel.active


def test_empty_run_shows_hints_not_errors(tmp_path):
    clade = GAFC1(CladeConfig(population_size=3), data="digits", folder=tmp_path / "e")
    analysis = Analysis(clade)
    assert analysis.overview.ids == [] and "no finished model yet" in analysis.overview.note.value
    assert "no finished model yet" in analysis.parallel.note.value
    analysis.tabs.selected_index = 2
    analysis.importance._throttle.flush_now()
    assert "color:#666" in analysis.importance.note.value


def test_short_genotype():
    row = {
        "model_id": "g0-000",
        "optimizer": "adam",
        "learning_rate": 0.0031234,
        "batch_size": 32,
        "nb_layers": 2,
        "layers_units": [64, 32],
        "layers_regularizer": ["none", "none"],
        "parents": [],
    }
    assert short_genotype(row) == "adam lr=0.00312 bs=32 | units=[64 32]"


def test_learning_rate_axis_is_logarithmic_and_the_brush_reads_its_units(one_objective):
    """Learning rates span decades: a log axis spreads them; the brush maps back to rates."""
    from dlgene_widgets.parallel_coords import coordinates, to_position, to_value

    parallel = Analysis(one_objective).parallel
    names = [d["name"] for d in parallel.dimensions]
    rate = parallel.dimensions[names.index("learning_rate")]
    raw = coordinates(one_objective)[0].loc[parallel.ids, "learning_rate"].to_numpy()
    assert raw.max() / raw.min() > 20 and rate["log"]
    drawn = np.asarray(parallel.lines.y)[:, names.index("learning_rate")]
    expected = (np.log10(raw) - np.log10(raw.min())) / np.log10(raw.max() / raw.min())
    assert np.allclose(drawn, expected)
    assert to_value(rate, to_position(rate, 1e-3)) == pytest.approx(1e-3)
    assert not parallel.dimensions[-1]["log"]  # the metric stays linear
