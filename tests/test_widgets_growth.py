"""GrowthPlot and GenerationViews driven by a real (tiny) grow on the digits data."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dlgene_core import GAFC1, CladeConfig
from dlgene_widgets import GenerationViews, GrowthPlot
from dlgene_widgets.generation_views import lineage_text
from dlgene_widgets.growth_plot import FADED_OPACITY, decimate
from dlgene_widgets.selection import model_colour


def test_decimate_bounds_points_and_keeps_ends():
    x = np.arange(10_000)
    dx, dy = decimate(x, x * 2.0, 500)
    assert len(dx) <= 500 and dx[0] == 0 and dx[-1] == 9999
    assert np.array_equal(dy, dx * 2.0)
    sx, _ = decimate([1, 2, 3], [1, 2, 3], 500)
    assert list(sx) == [1, 2, 3]


def _lines(figure):
    return [m for m in figure.marks if type(m).__name__ == "Lines"]


def test_lineage_text_is_a_tree():
    import pandas as pd

    edges = pd.DataFrame(
        {"child_id": ["g2-000", "g2-000", "g1-001"], "parent_id": ["g1-001", "g1-004", "g0-003"]}
    )
    text = lineage_text(edges, "g2-000")
    assert text.splitlines()[0] == "g2-000"
    assert "g0-003" in text and "g1-004" in text


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """Three models grown with a GrowthPlot attached (max 50 points per line)."""
    cfg = CladeConfig(population_size=3).updated(
        epochs=(1, 1), nb_units=(8, 16), nb_layers=(1, 1), batch_size=(16, 16)
    )
    clade = GAFC1(cfg, data="digits", folder=tmp_path_factory.mktemp("growth") / "run")
    clade.load_data()
    clade.spawn()
    plot = GrowthPlot(clade, max_points=50, max_rate_hz=10)
    views = GenerationViews(clade)
    started = time.monotonic()
    clade.grow_models()
    elapsed = time.monotonic() - started
    plot.flush()
    views.refresh()
    return clade, plot, views, elapsed


def test_growth_plot_lines_are_bounded_and_throttled(grown):
    clade, plot, _views, elapsed = grown
    assert "dlgene-growth-fig" in plot.loss_figure.figure._dom_classes
    ids = list(clade.genotypes["model_id"])
    # after the run nothing trains; the generation's finished curves stay, faded
    assert plot.live_models == [] and plot.faded_models == ids
    last = ids[-1]
    line = plot.loss_figure.faded_line(last)
    batches = len(clade.growth(last, "batches"))
    assert batches > 50
    assert 2 <= len(line.x) <= 50 and line.x[-1] == batches
    assert list(line.opacities) == [FADED_OPACITY]
    acc_line = plot.accuracy_figure.faded_line(last)
    assert len(acc_line.y) == len(line.y) and np.all(acc_line.y <= 1.0 + 1e-5)
    assert "generation 0, 3 finished" in plot.loss_figure.figure.title
    # at most about max_rate_hz flushes a second (+1 for the final explicit flush)
    assert plot.flushes <= elapsed * 10 + 2
    assert plot.flushes >= 2


def test_compare_view_draws_finished_models(grown):
    clade, plot, _views, _elapsed = grown
    plot.refresh_compare_options()
    ids = list(clade.genotypes["model_id"])
    assert list(plot.compare_picker.options) == sorted(ids)
    # until models are picked by hand it shows the best of the run, best first
    best = list(clade.best(5)["model_id"])
    assert plot.compare_best and plot.best_toggle.value
    assert plot.compare_ids == best and set(best) == set(ids)
    assert [len(m.x) > 0 for m in _lines(plot.compare_figure)] == [True] * 3
    colours = [m.colors[0] for m in _lines(plot.compare_figure)]
    assert colours == [model_colour(m) for m in best]  # one colour per model everywhere
    plot.compare_picker.value = tuple(ids[:2])
    assert plot.compare_ids == ids[:2]
    assert not plot.compare_best and not plot.best_toggle.value  # a pick by hand sticks
    plot.refresh_compare_options()
    assert plot.compare_ids == ids[:2]
    lines = [m for m in _lines(plot.compare_figure) if len(m.x)]
    assert len(lines) == 2 and all(len(m.x) <= 50 for m in lines)
    assert len(plot.compare_figure.marks) == 6  # the pooled marks stay, emptied, for reuse
    plot.metric_picker.value = "accuracy"
    assert plot.compare_figure.axes[1].label == "accuracy"
    plot.best_toggle.value = True  # back to the best ones
    assert plot.compare_ids == best and tuple(best) == plot.compare_picker.value


def test_a_model_whose_growth_tables_are_gone_is_named_not_fatal(tmp_path):
    """A damaged folder (growth tables deleted) opens: the compare view names the model
    without a curve instead of raising from the panel's constructor."""
    from analysis_helpers import fake_run  # phenotypes and genotypes only, no growth

    clade = fake_run(tmp_path / "r", n=4, generations=1)
    plot = GrowthPlot(clade, max_rate_hz=10)
    assert plot.compare_ids == list(clade.best(5)["model_id"]) and plot.compare_ids
    assert not any(len(m.x) for m in _lines(plot.compare_figure))  # nothing made up
    for model_id in plot.compare_ids:
        assert f"{model_id}: no curve recorded" in plot.compare_legend.value


def test_generation_views_show_histogram_best_heatmap_lineage(grown):
    clade, _plot, views, _elapsed = grown
    assert "dlgene-generation-views" in views._dom_classes
    assert views.histogram.y.shape == (2, 10)
    assert views.histogram.y[0].sum() == 3  # three usable models in generation 0
    assert list(views.best_lines.x) == [0.0, 0.0]  # one generation: a point drawn twice
    top = clade.best(1).iloc[0]
    assert views.best_lines.y.shape == (2, 2)  # two lines (val, test), not squeezed to one
    assert views.best_lines.y[0][0] == pytest.approx(float(top["val_accuracy"]))
    assert views.histogram.x[0] == ".0-.1" and views.histogram.x[-1] == ".9-1"
    ticks = views.histogram_figure.axes[1].tick_values
    assert views._count_scale.max > views.histogram.y.max()  # headroom for the legend
    assert all(float(t).is_integer() for t in ticks) and ticks[0] == 0  # whole models
    best = str(clade.best(1)["model_id"].iloc[0])
    assert views.follow_best and views.shown_model == best == views.model_picker.options[0]
    model = views.model_picker.options[-1]
    views.model_picker.value = model  # picked by hand: it stays through refreshes
    assert views.shown_model == model and not views.follow_best
    views.refresh()
    assert views.shown_model == model
    assert views.heatmap.color.shape == (10, 10)
    assert views.heatmap.color.sum() > 0
    assert model in views.lineage.value and "spawned" in views.lineage.value
    views.follow_toggle.value = True
    assert views.shown_model == best and best in views.heatmap_figure.title


def test_long_histories_stay_bounded_and_keep_the_latest_batch():
    from dlgene_widgets.growth_plot import Curve

    curve = Curve("g0-000", "#000", max_points=100)
    for i in range(100_000):
        curve.add({"event": "batch", "loss": float(i), "accuracy": 0.5})
    assert len(curve.x) < 200  # memory bounded, not 100k
    x, y = curve.series("loss")
    assert x[-1] == 100_000 and y[-1] == 99_999.0
    dx, _ = decimate(x, y, 100)
    assert len(dx) <= 100 and dx[-1] == 100_000
