"""GrowthPlot: live batch-level loss / accuracy of the models training now, and a compare view.

Training events arrive on the training thread; the listener only appends them to a deque
and asks the throttle for a flush (microseconds). The flush, at most ``max_rate_hz`` times a
second on a timer thread, folds the events into per-model histories and pushes decimated
copies (at most ``max_points`` per line) to bqplot.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np
from traitlets import Bool, Int, List, Unicode, observe

from dlgene_core import Clade
from dlgene_core.records import CURVE_STATUSES

from ._panel import Panel
from ._retire import close_later
from ._throttle import Throttle

PALETTE = bq.CATEGORY10
FINISHED_FOR_COMPARE = CURVE_STATUSES
COMPARE_BEST = 5  # models the compare view shows until some are picked by hand


def decimate(
    x: Sequence[float], y: Sequence[float], max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` evenly spaced points, always keeping the first and the last."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(xa)
    if n <= max_points:
        return xa, ya
    index = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return xa[index], ya[index]


@dataclass
class Curve:
    """What is seen of one model's training (x = batches since it started).

    Batch points are thinned as they arrive: once ``2 * max_points`` are kept, every other
    one is dropped and only every ``stride``-th new batch is kept, so memory and the cost
    of a flush stay bounded however long the model trains; the latest batch is always kept.
    """

    model_id: str
    colour: str
    max_points: int = 2000
    batches: int = 0
    stride: int = 1
    x: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    latest: tuple[float, float, float] | None = None
    epoch_x: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    finished: bool = False

    def add(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "batch":
            self.batches += 1
            point = (
                float(self.batches),
                float(event.get("loss", np.nan)),
                float(event.get("accuracy", np.nan)),
            )
            self.latest = point
            if (self.batches - 1) % self.stride == 0:
                self.x.append(point[0])
                self.loss.append(point[1])
                self.accuracy.append(point[2])
                if len(self.x) >= 2 * self.max_points:
                    self.x, self.loss, self.accuracy = (
                        self.x[::2],
                        self.loss[::2],
                        self.accuracy[::2],
                    )
                    self.stride *= 2
        elif kind == "epoch":
            self.epoch_x.append(self.batches)
            self.epoch_loss.append(float(event.get("loss", np.nan)))
            self.epoch_accuracy.append(float(event.get("accuracy", np.nan)))
            self.val_loss.append(float(event.get("val_loss", np.nan)))
            self.val_accuracy.append(float(event.get("val_accuracy", np.nan)))
        elif kind == "result":
            self.finished = True

    def series(self, metric: str) -> tuple[list[float], list[float]]:
        """Kept batch points of ``metric`` (loss or accuracy), ending with the latest batch."""
        values = self.loss if metric == "loss" else self.accuracy
        if self.latest is None or (self.x and self.x[-1] == self.latest[0]):
            return self.x, values
        return [*self.x, self.latest[0]], [*values, self.latest[1 if metric == "loss" else 2]]


class _MetricFigure:
    """One bqplot Figure (loss or accuracy) with a line, epoch markers and validation points
    per model."""

    def __init__(self, metric: str, title: str):
        self.metric = metric
        self.x_scale, self.y_scale = bq.LinearScale(), bq.LinearScale()
        axes = [
            bq.Axis(scale=self.x_scale, label="batch"),
            bq.Axis(scale=self.y_scale, orientation="vertical", label=metric),
        ]
        self.figure = bq.Figure(
            marks=[],
            axes=axes,
            title=title,
            animation_duration=0,
            layout=widgets.Layout(width="480px", height="300px"),
            fig_margin={"top": 40, "bottom": 40, "left": 55, "right": 10},
        )
        self.marks: dict[str, tuple[bq.Lines, bq.Scatter, bq.Scatter]] = {}

    def marks_for(self, model_id: str, colour: str) -> tuple[bq.Lines, bq.Scatter, bq.Scatter]:
        if model_id not in self.marks:
            scales = {"x": self.x_scale, "y": self.y_scale}
            line = bq.Lines(
                x=[], y=[], scales=scales, colors=[colour], labels=[model_id], display_legend=True
            )
            epochs = bq.Scatter(
                x=[], y=[], scales=scales, colors=[colour], marker="square", default_size=36
            )
            validation = bq.Scatter(
                x=[],
                y=[],
                scales=scales,
                colors=[colour],
                marker="circle",
                default_size=48,
                stroke="black",
            )
            self.marks[model_id] = (line, epochs, validation)
        return self.marks[model_id]

    def drop(self, model_ids: Sequence[str]) -> None:
        close_later(mark for model_id in model_ids for mark in self.marks.pop(model_id, ()))

    def show_marks(self) -> None:
        marks = [m for trio in self.marks.values() for m in trio]
        if marks != list(self.figure.marks):
            self.figure.marks = marks


class GrowthPlot(Panel):
    """Live curves of the models training now, plus finished models' curves to compare."""

    live_models = List(Unicode(), help="models drawn on the live figures")
    compare_ids = List(Unicode(), help="finished models drawn on the compare figure")
    compare_metric = Unicode("loss", help="loss or accuracy on the compare figure")
    compare_best = Bool(
        True,
        help="compare the best finished models of the latest grown generation (turned off "
        "when models are picked by hand)",
    )
    flushes = Int(0, help="pushes to the live figures so far (bounded by max_rate_hz)")

    def __init__(self, clade: Clade, max_points: int = 2000, max_rate_hz: float = 10.0):
        super().__init__()
        if int(max_points) < 2:
            raise ValueError(f"max_points={max_points!r}; allowed: an integer >= 2")
        self.clade = clade
        self.max_points = int(max_points)
        self.max_rate_hz = float(max_rate_hz)
        self.curves: dict[str, Curve] = {}
        self._events: deque[dict[str, Any]] = deque()
        self._lock = threading.RLock()
        self._n_models = 0
        self.loss_figure = _MetricFigure("loss", "live loss (per batch)")
        self.accuracy_figure = _MetricFigure("accuracy", "live accuracy (per batch)")
        for fig in (self.loss_figure.figure, self.accuracy_figure.figure):
            fig.add_class("dlgene-growth-fig")
        self.compare_picker = widgets.SelectMultiple(description="compare", rows=6)
        self.metric_picker = widgets.ToggleButtons(options=["loss", "accuracy"], value="loss")
        self.best_toggle = widgets.Checkbox(
            description=f"best {COMPARE_BEST} of the latest generation", indent=False
        )
        self.compare_x, self.compare_y = bq.LinearScale(), bq.LinearScale()
        self.compare_figure = bq.Figure(
            marks=[],
            axes=[
                bq.Axis(scale=self.compare_x, label="batch"),
                bq.Axis(scale=self.compare_y, orientation="vertical", label="loss"),
            ],
            title="finished models",
            animation_duration=0,
            layout=widgets.Layout(width="600px", height="320px"),
            legend_location="top-right",
        ).add_class("dlgene-compare-fig")
        self.compare_picker.observe(
            lambda c: setattr(self, "compare_ids", list(c["new"])), names="value"
        )
        widgets.link((self.metric_picker, "value"), (self, "compare_metric"))
        widgets.link((self, "compare_best"), (self.best_toggle, "value"))  # trait first: it wins
        self.children = [
            widgets.HBox([self.loss_figure.figure, self.accuracy_figure.figure]),
            widgets.HBox(
                [
                    widgets.VBox([self.compare_picker, self.best_toggle, self.metric_picker]),
                    self.compare_figure,
                ]
            ),
        ]
        self.add_class("dlgene-growth-panel")
        self._throttle = Throttle(self._flush, max_rate_hz, name="growth-plot")
        self._options_throttle = Throttle(
            self.refresh_compare_options, 2.0, name="compare-options", sync_on_main_thread=True
        )
        clade.add_listener(self._on_event)
        clade.observe(self._on_phenotypes, names="phenotypes")
        self.on_close(lambda: clade.remove_listener(self._on_event))
        self.on_close(lambda: clade.unobserve(self._on_phenotypes, names="phenotypes"))
        self.on_close(self._throttle.close)
        self.on_close(self._options_throttle.close)
        self.refresh_compare_options()

    # ------------------------------------------------------------------ training thread
    def _on_event(self, event: dict[str, Any]) -> None:
        """Called for every batch: keep it to an append and a flag check."""
        self._events.append(event)
        self._throttle.request()

    def _on_phenotypes(self, _change) -> None:
        self._options_throttle.request()

    # ------------------------------------------------------------------ flushing
    def flush(self) -> None:
        """Push everything received so far to the figures now (tests, end of a job)."""
        self._throttle.flush_now()

    def _flush(self) -> None:
        with self._lock:
            started, dirty = self._drain()
            if started:  # a new model began: drop the lines of models that have finished
                done = [m for m, c in self.curves.items() if c.finished and m not in started]
                for fig in (self.loss_figure, self.accuracy_figure):
                    fig.drop(done)
                for model_id in done:
                    del self.curves[model_id]
            for curve in self.curves.values():
                if curve.model_id not in dirty:
                    continue
                self._draw(self.loss_figure, curve, curve.epoch_loss, curve.val_loss)
                self._draw(self.accuracy_figure, curve, curve.epoch_accuracy, curve.val_accuracy)
            for fig in (self.loss_figure, self.accuracy_figure):
                fig.show_marks()
            self.live_models = list(self.curves)
            self.flushes += 1

    def _drain(self) -> tuple[list[str], set[str]]:
        started: list[str] = []
        dirty: set[str] = set()
        while self._events:
            event = self._events.popleft()
            model_id = str(event.get("model_id", ""))
            if event.get("event") not in ("start", "batch", "epoch", "result") or not model_id:
                continue
            curve = self.curves.get(model_id)
            if curve is None or (event.get("event") == "start" and curve.finished):
                colour = PALETTE[self._n_models % len(PALETTE)]
                curve = Curve(model_id, colour, max_points=self.max_points)
                self._n_models += 1
                self.curves[model_id] = curve
            if event.get("event") == "start":
                started.append(model_id)
            curve.add(event)
            dirty.add(model_id)
        return started, dirty

    def _draw(self, fig: _MetricFigure, curve: Curve, epoch_values, val_values) -> None:
        line, epochs, validation = fig.marks_for(curve.model_id, curve.colour)
        x, y = decimate(*curve.series(fig.metric), self.max_points)
        with line.hold_sync():
            line.x, line.y = x, y
        ex, ey = decimate(curve.epoch_x, epoch_values, self.max_points)
        if len(ex) != len(epochs.x):
            with epochs.hold_sync():
                epochs.x, epochs.y = ex, ey
            vx, vy = decimate(curve.epoch_x, val_values, self.max_points)
            with validation.hold_sync():
                validation.x, validation.y = vx, vy

    # ------------------------------------------------------------------ compare view
    def refresh_compare_options(self) -> None:
        phenotypes = self.clade.phenotypes
        if phenotypes.empty:
            ids: list[str] = []
        else:
            ids = sorted(
                phenotypes.loc[phenotypes["status"].isin(FINISHED_FOR_COMPARE), "model_id"]
            )
        if list(self.compare_picker.options) != ids:
            keep = tuple(m for m in self.compare_picker.value if m in ids)
            with self.setting_itself():  # options changed: not a pick by hand
                self.compare_picker.options = ids
                self.compare_picker.value = keep
        if self.compare_best:
            self._show_best()

    def best_compare_ids(self) -> list[str]:
        """The best finished models (selection metric) of the latest generation with any."""
        phenotypes = self.clade.phenotypes
        if phenotypes.empty:
            return []
        finished = phenotypes[phenotypes["status"].isin(FINISHED_FOR_COMPARE)]
        if finished.empty:
            return []
        latest = int(finished["generation"].max())
        return [str(m) for m in self.clade.best(COMPARE_BEST, generation=latest)["model_id"]]

    def _show_best(self) -> None:
        best = [m for m in self.best_compare_ids() if m in self.compare_picker.options]
        if best != list(self.compare_ids):
            with self.setting_itself():
                self.compare_ids = best

    @observe("compare_best")
    def _on_compare_best(self, change) -> None:
        if change["new"] and hasattr(self, "compare_figure"):
            self._show_best()

    @observe("compare_ids", "compare_metric")
    def _on_compare(self, change) -> None:
        if not hasattr(self, "compare_figure"):
            return
        if change["name"] == "compare_ids" and self.picked_by_hand:
            self.compare_best = False  # picked by hand: keep the choice
        if tuple(self.compare_ids) != self.compare_picker.value:
            with self.setting_itself():
                self.compare_picker.value = tuple(self.compare_ids)
        self.draw_compare()

    def _pruned_ids(self) -> set[str]:
        phenotypes = self.clade.phenotypes
        if phenotypes.empty:
            return set()
        return set(phenotypes.loc[phenotypes["status"] == "pruned", "model_id"].astype(str))

    def draw_compare(self) -> None:
        """Draw the chosen finished models' stored curves (decimated) on the compare figure."""
        metric = self.compare_metric
        scales = {"x": self.compare_x, "y": self.compare_y}
        marks = []
        pruned = self._pruned_ids()
        for i, model_id in enumerate(self.compare_ids):
            colour = PALETTE[i % len(PALETTE)]
            batches = self.clade.growth(model_id, "batches")
            x, y = decimate(np.arange(1, len(batches) + 1), batches[metric], self.max_points)
            label = f"{model_id} (pruned)" if model_id in pruned else model_id
            marks.append(
                bq.Lines(
                    x=x,
                    y=y,
                    scales=scales,
                    colors=[colour],
                    labels=[label],
                    display_legend=True,
                    line_style="dashed" if model_id in pruned else "solid",
                )
            )
            epochs = self.clade.growth(model_id, "epochs")
            if len(epochs):
                per_epoch = len(batches) / max(len(epochs), 1)
                ex = (np.arange(1, len(epochs) + 1) * per_epoch).round()
                marks.append(
                    bq.Scatter(
                        x=ex,
                        y=epochs[f"val_{metric}"].to_numpy(dtype=float),
                        scales=scales,
                        colors=[colour],
                        marker="circle",
                        stroke="black",
                    )
                )
        old = list(self.compare_figure.marks)
        with self.compare_figure.hold_sync():
            self.compare_figure.marks = marks
            self.compare_figure.axes[1].label = metric
        close_later(old)
