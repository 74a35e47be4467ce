"""GrowthPlot's live figures from synthetic training events (no training: fast).

What is asserted is what a person sees: which curves are drawn, in which colour and
opacity, over which x and y range, and that marks are reused rather than made per model.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlgene_core import GAFC1, CladeConfig
from dlgene_widgets import GrowthPlot
from dlgene_widgets.growth_plot import FADED_OPACITY, MAX_FADED, robust_range
from dlgene_widgets.selection import model_colour


@pytest.fixture
def plot(tmp_path):
    clade = GAFC1(CladeConfig(population_size=3), data="digits", folder=tmp_path / "run")
    plot = GrowthPlot(clade, max_points=200, max_rate_hz=10)
    yield plot
    plot.close()


def feed(plot, model_id, n, loss=lambda i: 2.0 / (1 + i / 50), start=True, finish=False):
    """``n`` batch events (and an epoch) of ``model_id``, as the trainer sends them."""
    if start:
        plot._on_event({"event": "start", "model_id": model_id, "worker": "main"})
    for i in range(n):
        plot._on_event({"event": "batch", "model_id": model_id, "loss": loss(i), "accuracy": 0.5})
    plot._on_event(
        {"event": "epoch", "model_id": model_id, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1,
         "val_accuracy": 0.4}
    )  # fmt: skip
    if finish:
        plot._on_event({"event": "result", "model_id": model_id, "status": "ok"})


def test_running_curve_has_its_own_x_range_and_finished_ones_fade_behind(plot):
    feed(plot, "g0-000", 300, finish=True)
    feed(plot, "g0-001", 20)
    plot.flush()
    assert plot.live_models == ["g0-001"] and plot.faded_models == ["g0-000"]
    fig = plot.loss_figure
    assert fig.x_scale.min == 0.0 and fig.x_scale.max == 20.0  # not 300: no squashing
    line, epochs, validation = fig.marks_of("g0-001")
    assert line.x[-1] == 20 and list(line.colors) == [model_colour("g0-001")]
    assert list(line.opacities) in ([], [1.0])  # full colour
    faded = fig.faded_line("g0-000")
    assert len(faded.x) > 0 and list(faded.opacities) == [FADED_OPACITY]
    assert list(faded.colors) == [model_colour("g0-000")]
    assert fig.figure.marks.index(faded) < fig.figure.marks.index(line)  # drawn behind
    assert len(epochs.x) == 1 and len(validation.x) == 1
    assert "g0-001 training" in fig.figure.title
    assert "g0-001" in plot.live_legend.value and "validation" in plot.live_legend.value
    assert all(not m.display_legend for m in fig.figure.marks)  # no legend over the data


def test_a_finished_model_stays_drawn_until_its_faded_line_was_sent(plot):
    """Its running line is emptied one flush after the faded copy went out (in the browser
    the two updates land separately: the same flush left a blank frame now and then)."""
    feed(plot, "g0-000", 40)
    plot.flush()
    line = plot.loss_figure.marks_of("g0-000")[0]
    plot._on_event({"event": "result", "model_id": "g0-000", "status": "ok"})
    plot.flush()
    assert plot.live_models == [] and plot.faded_models == ["g0-000"]
    assert len(line.x) == 40 and len(plot.loss_figure.faded_line("g0-000").x) == 40
    plot.flush()
    assert len(line.x) == 0 and plot.loss_figure.slot_owner == [""]
    feed(plot, "g0-001", 10)
    plot.flush()
    assert plot.loss_figure.marks_of("g0-001")[0] is line  # the freed slot is reused


def test_two_running_models_are_both_drawn(plot):
    plot._on_event({"event": "start", "model_id": "g0-000", "worker": "pool-0"})
    plot._on_event({"event": "start", "model_id": "g0-001", "worker": "pool-1"})
    for _ in range(40):
        for model_id in ("g0-000", "g0-001"):
            plot._on_event({"event": "batch", "model_id": model_id, "loss": 1.0, "accuracy": 0.5})
    plot._on_event({"event": "batch", "model_id": "g0-001", "loss": 1.0, "accuracy": 0.5})
    plot.flush()
    assert plot.live_models == ["g0-000", "g0-001"]
    for model_id, n in (("g0-000", 40), ("g0-001", 41)):
        for fig in (plot.loss_figure, plot.accuracy_figure):
            line = fig.marks_of(model_id)[0]
            assert line.x[-1] == n and list(line.colors) == [model_colour(model_id)]
    assert plot.loss_figure.x_scale.max == 41.0
    assert model_colour("g0-000") != model_colour("g0-001")


def test_a_diverging_model_is_clipped_not_flattening_the_rest(plot):
    feed(plot, "g0-000", 200, finish=True)
    feed(plot, "g0-001", 200, finish=True)
    feed(plot, "g0-002", 200, loss=lambda i: 10.0 ** (i / 20))  # to 1e10
    plot.flush()
    scale = plot.loss_figure.y_scale
    assert 2.0 <= scale.max < 5.0  # the normal curves (2 -> 0.4) fill the figure
    assert scale.min < 0.45
    assert plot.off_scale == ["g0-002"]
    assert "off scale: g0-002" in plot.loss_figure.figure.title
    acc = plot.accuracy_figure.y_scale
    assert 0.0 <= acc.min <= 0.5 <= acc.max <= 1.0


def test_robust_range_keeps_similar_curves_whole():
    a, b = np.linspace(2.3, 0.3, 300), np.linspace(3.0, 0.5, 300)
    low, high, left_out = robust_range([a, b])
    assert left_out == [] and low < 0.3 and high >= 2.9
    assert robust_range([np.array([np.nan])]) is None
    low, high, left_out = robust_range([a, b, np.full(300, 1e6)])
    assert left_out == [2] and high < 10


def test_a_new_generation_replaces_the_faded_curves_and_marks_are_reused(plot):
    feed(plot, "g0-000", 30)
    plot.flush()  # drawn running: its marks exist from here on
    plot._on_event({"event": "result", "model_id": "g0-000", "status": "ok"})
    feed(plot, "g0-001", 30, finish=True)
    plot.flush()
    marks_before = list(plot.loss_figure.figure.marks)
    plot.clade.generation = 1
    plot._on_event({"event": "start", "model_id": "g1-000", "worker": "main"})
    plot.flush()  # started, no batch yet: the last generation stays, so the plot is not blank
    assert plot.faded_models == ["g0-000", "g0-001"]
    assert plot.loss_figure.x_scale.max == 30.0
    feed(plot, "g1-000", 10, start=False)
    plot.flush()  # its curve goes out while the last generation's stay (never a blank frame)
    assert plot.faded_models == ["g0-000", "g0-001"] and plot.live_models == ["g1-000"]
    plot.flush()  # then they go
    assert plot.faded_models == [] and plot.live_models == ["g1-000"]
    assert all(len(m.x) == 0 for m in plot.loss_figure.faded_lines)  # emptied, kept for reuse
    assert list(plot.loss_figure.figure.marks) == marks_before  # the same widgets, in place


def test_marks_stay_bounded_over_many_models(plot):
    for i in range(MAX_FADED + 15):
        feed(plot, f"g0-{i:03d}", 5, finish=True)
        plot.flush()
    fig = plot.loss_figure
    assert len(plot.faded_models) == MAX_FADED
    assert plot.faded_models[-1] == f"g0-{MAX_FADED + 14:03d}"  # the most recent kept
    assert len(fig.faded_lines) == MAX_FADED and len(fig.slots) <= 1
    assert len(fig.figure.marks) == MAX_FADED + 3 * len(fig.slots)


def test_a_retried_model_starts_its_curve_again(plot):
    feed(plot, "g0-000", 50)
    feed(plot, "g0-000", 5)  # the worker died; the model was started again
    plot.flush()
    assert plot.loss_figure.marks_of("g0-000")[0].x[-1] == 5


def test_models_that_never_trained_take_no_faded_line(plot):
    feed(plot, "g0-000", 30, finish=True)
    plot._on_event({"event": "result", "model_id": "g0-001", "status": "duplicate"})
    plot.flush()
    assert plot.faded_models == ["g0-000"] and plot.live_models == []


def test_empty_plot_says_what_to_do(plot):
    plot.flush()
    assert "nothing trained yet" in plot.loss_figure.figure.title
    assert plot.compare_figure.title == "finished models: none yet"


def test_the_compare_view_keeps_the_curves_it_saw_train(plot, monkeypatch):
    """A model watched live needs no read of the folder when it joins the compare view."""
    feed(plot, "g0-000", 120, finish=True)
    plot.flush()

    def no_reads(*_args):
        raise AssertionError("read the folder for a curve it had")

    monkeypatch.setattr(plot.clade, "growth", no_reads)
    curve = plot.finished_curve("g0-000")
    x, loss, epoch_x, val_loss = curve.series("loss")
    assert curve.batches == 120 and x[-1] == 120 and len(x) == len(loss) == 120
    assert list(epoch_x) == [120.0] and list(val_loss) == [1.1]
    plot.compare_picker.options = ["g0-000"]  # as if the phenotypes listed it
    plot.compare_ids = ["g0-000"]
    line = plot._compare_slots[0][0]
    assert len(line.x) == 120 and list(line.colors) == [model_colour("g0-000")]
    with pytest.raises(AssertionError, match="read the folder"):
        plot.finished_curve("g0-999")  # never seen here: read from the folder


def test_the_next_model_takes_over_a_finished_ones_marks_in_one_update(plot):
    """One model after another (in process): one set of running marks for the whole run; the
    next model's curve replaces the finished one's in place (never an empty line between)."""
    feed(plot, "g0-000", 40)
    plot.flush()
    line = plot.loss_figure.marks_of("g0-000")[0]
    plot._on_event({"event": "result", "model_id": "g0-000", "status": "ok"})
    feed(plot, "g0-001", 5)
    plot.flush()
    assert plot.loss_figure.marks_of("g0-001")[0] is line and len(line.x) == 5
    assert len(plot.loss_figure.slots) == 1
    assert len(plot.loss_figure.faded_line("g0-000").x) == 40
    plot.flush()  # the retired model's marks are someone else's now: left alone
    assert len(line.x) == 5 and plot.loss_figure.slot_owner == ["g0-001"]
