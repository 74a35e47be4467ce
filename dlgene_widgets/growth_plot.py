"""GrowthPlot: live batch-level loss / accuracy of the models training now, and a compare view.

Training events arrive on the training thread; the listener only appends them to a deque
and asks the throttle for a flush (microseconds). The flush, at most ``max_rate_hz`` times a
second on a timer thread, folds the events into per-model histories and pushes decimated
copies (at most ``max_points`` per line) to bqplot.

What the live figures show, so that they always show something: every model training now
(several at once with a pool or Dask) in full colour on the x range of the running models
only, and the finished models of the same generation faded behind them. The y range leaves
out a diverging model (``robust_range``) instead of flattening the others; legends are HTML
beside the figures, never over the data. Marks are pooled and updated in place, never
created per model, so a long run keeps a fixed number of widgets in the browser.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np
from traitlets import Bool, Int, List, Unicode, observe

from dlgene_core import Clade
from dlgene_core.records import CURVE_STATUSES

from ._hints import HINT_COLOUR
from ._panel import Panel
from ._throttle import Throttle, when_idle
from .selection import model_colour

FINISHED_FOR_COMPARE = CURVE_STATUSES
COMPARE_BEST = 5  # models the compare view shows until some are picked by hand
FADED_OPACITY = 0.3  # finished models of the generation, behind the running ones
MAX_FADED = 20  # finished curves kept on the live figures (the most recent)
FADED_POINTS = 500  # points per faded line: context, not detail
EMPTY = np.zeros(0)


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


def robust_range(
    series: Sequence[np.ndarray], bounds: tuple[float, float] | None = None
) -> tuple[float, float, list[int]] | None:
    """A y range that shows every curve in the family and leaves a diverging one out.

    A curve is out of the family when its median lies more than 4 typical spreads above the
    median of all curves' medians (a loss going to 1e3 while the others sit near 1). The
    range spans the family's lowest point to its 99th percentile (a one-batch spike does not
    flatten the rest), padded by 5% and cut to ``bounds`` (accuracy: 0..1). Returns
    ``(low, high, indices of the curves left out)``, or None when nothing is finite.
    """
    finite = [(i, s[np.isfinite(s)]) for i, s in enumerate(series)]
    stats = {i: _quantiles(s) for i, s in finite if s.size}  # min, q10, median, q90, q99, max
    if not stats:
        return None
    sizes = {i: s.size for i, s in finite}
    medians = np.array([q[2] for q in stats.values()])
    spreads = np.array([q[3] - q[1] for q in stats.values()])
    typical = float(np.median(medians))
    scale = max(float(np.median(spreads)), abs(typical) * 0.5, 1e-6)
    family = [i for i, q in stats.items() if q[2] <= typical + 4 * scale]
    left_out = sorted(set(stats) - set(family))
    low = min(float(stats[i][0]) for i in family)
    high = max(float(stats[i][4] if sizes[i] >= 100 else stats[i][5]) for i in family)
    pad = (high - low) * 0.05 or max(abs(high) * 0.05, 0.05)
    low, high = low - pad, high + pad
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return low, high, left_out


QUANTILES = np.array([0.0, 0.1, 0.5, 0.9, 0.99, 1.0])


def _quantiles(values: np.ndarray) -> np.ndarray:
    """``QUANTILES`` of ``values`` (numpy's default linear interpolation) from one sort:
    the live plot fits its y range at every flush, and a dozen ``np.quantile`` calls per
    curve were most of a flush's cost."""
    ordered = np.sort(values)
    position = QUANTILES * (len(ordered) - 1)
    below = np.floor(position).astype(int)
    above = np.minimum(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


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
    generation: int = 0
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


@dataclass(frozen=True)
class FinishedCurve:
    """What the compare view draws of a finished model: its batch curve and its validation
    at each epoch's end. Taken from the live curve when this panel saw the model train,
    read from the folder's growth tables otherwise (a resumed run)."""

    batches: int
    x: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    epoch_x: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray

    @classmethod
    def from_curve(cls, curve: Curve, max_points: int) -> FinishedCurve:
        x, loss = decimate(*curve.series("loss"), max_points)
        _, accuracy = decimate(*curve.series("accuracy"), max_points)
        return cls(
            curve.batches,
            x,
            loss,
            accuracy,
            np.asarray(curve.epoch_x, dtype=float),
            np.asarray(curve.val_loss, dtype=float),
            np.asarray(curve.val_accuracy, dtype=float),
        )

    @classmethod
    def from_tables(cls, batches: Any, epochs: Any, max_points: int) -> FinishedCurve:
        steps = np.arange(1, len(batches) + 1)
        x, loss = decimate(steps, batches["loss"], max_points)
        _, accuracy = decimate(steps, batches["accuracy"], max_points)
        per_epoch = len(batches) / max(len(epochs), 1)
        return cls(
            len(batches),
            x,
            loss,
            accuracy,
            (np.arange(1, len(epochs) + 1) * per_epoch).round(),
            epochs["val_loss"].to_numpy(dtype=float) if len(epochs) else EMPTY,
            epochs["val_accuracy"].to_numpy(dtype=float) if len(epochs) else EMPTY,
        )

    def series(self, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Batch x and y, epoch-end x and validation y of ``metric`` (loss or accuracy)."""
        if metric == "loss":
            return self.x, self.loss, self.epoch_x, self.val_loss
        return self.x, self.accuracy, self.epoch_x, self.val_accuracy


Trio = tuple[bq.Lines, bq.Scatter, bq.Scatter]


class _MetricFigure:
    """One bqplot Figure (loss or accuracy): faded lines of finished models behind, then a
    line, epoch markers and validation markers per running model.

    Both kinds of marks live in pools that only grow to the most ever shown at once; a mark
    a model no longer needs is emptied and handed to the next one, so no widget is created
    or closed per model (a browser keeps every view it was sent until the model closes).
    """

    def __init__(self, metric: str, bounds: tuple[float, float] | None):
        self.metric = metric
        self.bounds = bounds
        self.x_scale, self.y_scale = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale()
        if bounds is not None:
            self.y_scale.min, self.y_scale.max = bounds
        axes = [
            bq.Axis(scale=self.x_scale, label="batch"),
            bq.Axis(scale=self.y_scale, orientation="vertical", label=metric),
        ]
        self.figure = bq.Figure(
            marks=[],
            axes=axes,
            title=f"live {metric}: nothing trained yet (press grow)",
            animation_duration=0,
            layout=widgets.Layout(width="480px", height="300px"),
            fig_margin={"top": 40, "bottom": 40, "left": 55, "right": 10},
        )
        # All faded lines exist from the start: the browser keeps a mark's view only while
        # the marks before it are unchanged, so a faded line added later (drawn behind, so
        # put first) made it redraw every running line and the figure was blank meanwhile.
        # Running models' marks come last; a new one is appended and disturbs nothing.
        self.faded_lines = [
            bq.Lines(
                x=EMPTY,
                y=EMPTY,
                scales={"x": self.x_scale, "y": self.y_scale},
                opacities=[FADED_OPACITY],
            )
            for _ in range(MAX_FADED)
        ]
        self.faded_owner = [""] * MAX_FADED  # "" for a free line
        self.slots: list[Trio] = []
        self.slot_owner: list[str] = []
        self.show_marks()

    # -- running models ------------------------------------------------------------
    def slot_for(self, model_id: str, colour: str, reusable: Collection[str] = ()) -> Trio:
        """The running model's marks: its own, a free trio, one of a model in ``reusable``
        (finished, its faded copy already sent: the new curve replaces the old in one
        update, never a blank), or a new trio appended (more running at once than ever)."""
        if model_id in self.slot_owner:
            return self.slots[self.slot_owner.index(model_id)]
        taken = [i for i, owner in enumerate(self.slot_owner) if owner in reusable]
        if "" in self.slot_owner:
            index = self.slot_owner.index("")
        elif taken:
            index = taken[0]
        else:
            scales = {"x": self.x_scale, "y": self.y_scale}
            trio = (
                bq.Lines(x=EMPTY, y=EMPTY, scales=scales),
                bq.Scatter(x=EMPTY, y=EMPTY, scales=scales, marker="square", default_size=36),
                bq.Scatter(
                    x=EMPTY,
                    y=EMPTY,
                    scales=scales,
                    marker="circle",
                    default_size=48,
                    stroke="black",
                ),
            )
            self.slots.append(trio)
            self.slot_owner.append("")
            index = len(self.slots) - 1
        self.slot_owner[index] = model_id
        for mark in self.slots[index]:
            with mark.hold_sync():
                mark.x, mark.y = EMPTY, EMPTY
                mark.colors = [colour]
        return self.slots[index]

    def free_slot(self, model_id: str) -> None:
        if model_id not in self.slot_owner:
            return
        index = self.slot_owner.index(model_id)
        self.slot_owner[index] = ""
        for mark in self.slots[index]:
            with mark.hold_sync():
                mark.x, mark.y = EMPTY, EMPTY

    # -- finished models -------------------------------------------------------------
    def fade(self, model_id: str, x: np.ndarray, y: np.ndarray, colour: str) -> None:
        """Draw ``model_id``'s finished curve faded in a free pooled line (the caller frees
        the oldest once ``MAX_FADED`` are drawn)."""
        if model_id in self.faded_owner:
            index = self.faded_owner.index(model_id)
        else:
            index = self.faded_owner.index("")
        self.faded_owner[index] = model_id
        line = self.faded_lines[index]
        with line.hold_sync():
            line.x, line.y = x, y
            line.colors = [colour]

    def unfade(self, model_id: str) -> None:
        if model_id in self.faded_owner:
            index = self.faded_owner.index(model_id)
            self.faded_owner[index] = ""
            line = self.faded_lines[index]
            with line.hold_sync():
                line.x, line.y = EMPTY, EMPTY

    def show_marks(self) -> None:
        """Faded lines first (drawn behind), then the running models' marks."""
        marks = [*self.faded_lines, *(m for trio in self.slots for m in trio)]
        if marks != list(self.figure.marks):
            self.figure.marks = marks

    def marks_of(self, model_id: str) -> Trio | None:
        """The running model's line and markers (None when it is not running)."""
        if model_id in self.slot_owner:
            return self.slots[self.slot_owner.index(model_id)]
        return None

    def faded_line(self, model_id: str) -> bq.Lines | None:
        if model_id in self.faded_owner:
            return self.faded_lines[self.faded_owner.index(model_id)]
        return None


def _swatch(colour: str, opacity: float = 1.0, dashed: bool = False) -> str:
    style = "dashed" if dashed else "solid"
    return (
        f"<span style='display:inline-block;width:18px;border-top:3px {style} {colour};"
        f"opacity:{opacity};vertical-align:middle;margin-right:3px'></span>"
    )


LIVE_KEY = (
    f"<span style='color:{HINT_COLOUR}'>line: each batch · &#9632; train mean per epoch · "
    "&#9679; (black edge) validation at the end of an epoch · faded: finished models of this "
    "generation</span>"
)
COMPARE_KEY = (
    f"<span style='color:{HINT_COLOUR}'>line: each batch · &#9679; validation per epoch · "
    "dashed: pruned</span>"
)


class GrowthPlot(Panel):
    """Live curves of the models training now, plus finished models' curves to compare."""

    live_models = List(Unicode(), help="running models drawn in full colour on the live figures")
    faded_models = List(Unicode(), help="finished models of the generation drawn faded behind")
    off_scale = List(Unicode(), help="models left out of the loss y range (diverging)")
    compare_ids = List(Unicode(), help="finished models drawn on the compare figure")
    compare_metric = Unicode("loss", help="loss or accuracy on the compare figure")
    compare_best = Bool(
        True,
        help="compare the best finished models of the run (turned off when models are "
        "picked by hand)",
    )
    flushes = Int(0, help="pushes to the live figures so far (bounded by max_rate_hz)")

    def __init__(
        self,
        clade: Clade,
        max_points: int = 2000,
        max_rate_hz: float = 10.0,
        compare_rate_hz: float = 2.0,
    ):
        super().__init__()
        if int(max_points) < 2:
            raise ValueError(f"max_points={max_points!r}; allowed: an integer >= 2")
        self.clade = clade
        self.max_points = int(max_points)
        self.max_rate_hz = float(max_rate_hz)
        self.curves: dict[str, Curve] = {}  # running (and just finished, until the flush)
        self.faded: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # oldest first
        self._faded_generation: int | None = None
        self._retiring: list[str] = []  # faded this flush; running marks emptied next flush
        self._stale_faded: set[str] = set()  # the last generation's, emptied next flush
        self._events: deque[dict[str, Any]] = deque()
        self._lock = threading.RLock()
        self.loss_figure = _MetricFigure("loss", None)
        self.accuracy_figure = _MetricFigure("accuracy", (0.0, 1.0))
        for fig in (self.loss_figure.figure, self.accuracy_figure.figure):
            fig.add_class("dlgene-growth-fig")
        self.live_legend = widgets.HTML(LIVE_KEY).add_class("dlgene-growth-legend")
        self.compare_picker = widgets.SelectMultiple(description="compare", rows=6)
        self.metric_picker = widgets.ToggleButtons(options=["loss", "accuracy"], value="loss")
        self.best_toggle = widgets.Checkbox(
            description=f"best {COMPARE_BEST} of the run", indent=False
        )
        self.compare_x, self.compare_y = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale()
        self.compare_figure = bq.Figure(
            marks=[],
            axes=[
                bq.Axis(scale=self.compare_x, label="batch"),
                bq.Axis(scale=self.compare_y, orientation="vertical", label="loss"),
            ],
            title="finished models: none yet",
            animation_duration=0,
            layout=widgets.Layout(width="600px", height="320px"),
        ).add_class("dlgene-compare-fig")
        self.compare_legend = widgets.HTML(COMPARE_KEY).add_class("dlgene-compare-legend")
        self._compare_slots: list[tuple[bq.Lines, bq.Scatter]] = []
        self._finished: dict[str, FinishedCurve] = {}  # compare view's curves, oldest first
        self._compare_drawn: tuple[Any, ...] | None = None
        self.compare_picker.observe(
            lambda c: setattr(self, "compare_ids", list(c["new"])), names="value"
        )
        widgets.link((self.metric_picker, "value"), (self, "compare_metric"))
        widgets.link((self, "compare_best"), (self.best_toggle, "value"))  # trait first: it wins
        self.children = [
            widgets.HBox([self.loss_figure.figure, self.accuracy_figure.figure]),
            self.live_legend,
            widgets.HBox(
                [
                    widgets.VBox([self.compare_picker, self.best_toggle, self.metric_picker]),
                    self.compare_figure,
                    self.compare_legend,
                ]
            ),
        ]
        self.add_class("dlgene-growth-panel")
        self._throttle = Throttle(self._flush, max_rate_hz, name="growth-plot")
        self._options_throttle = Throttle(
            self.refresh_compare_options,
            compare_rate_hz,
            name="compare-options",
            sync_on_main_thread=when_idle(clade),
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

    def _figures(self) -> tuple[_MetricFigure, _MetricFigure]:
        return self.loss_figure, self.accuracy_figure

    def _flush(self) -> None:
        with self._lock:
            self._free_retired()
            dirty = self._drain()
            self._follow_generation()
            for model_id in [m for m, c in self.curves.items() if c.finished]:
                self._fade(self.curves.pop(model_id))
            for curve in self.curves.values():
                if curve.model_id in dirty:
                    self._draw(self.loss_figure, curve, curve.epoch_loss, curve.val_loss)
                    self._draw(
                        self.accuracy_figure, curve, curve.epoch_accuracy, curve.val_accuracy
                    )
            self._fit_scales()
            for fig in self._figures():
                fig.show_marks()
            self.live_models = list(self.curves)
            self.faded_models = list(self.faded)
            self._label()
            self.flushes += 1
        if self._retiring or self._stale_faded:
            self._throttle.request()  # one more flush to empty what was replaced

    def _drain(self) -> set[str]:
        dirty: set[str] = set()
        while self._events:
            event = self._events.popleft()
            kind, model_id = event.get("event"), str(event.get("model_id", ""))
            if kind not in ("start", "batch", "epoch", "result") or not model_id:
                continue
            curve = self.curves.get(model_id)
            restart = kind == "start" and curve is not None and (curve.finished or curve.batches)
            if curve is None or restart:  # new, resumed or retried: start the curve afresh
                curve = self._start_curve(model_id)
            curve.add(event)
            dirty.add(model_id)
        return dirty

    def _start_curve(self, model_id: str) -> Curve:
        self._finished.pop(model_id, None)  # grown again: its finished curve will change
        if model_id in self.faded:
            del self.faded[model_id]
            for fig in self._figures():
                fig.unfade(model_id)
        generation = int(self.clade.generation)
        curve = Curve(model_id, model_colour(model_id), self.max_points, generation)
        self.curves[model_id] = curve
        return curve

    def _follow_generation(self) -> None:
        """A new generation's faded curves replace the last one's once one of its models
        has a batch to draw (not at its start, so the figures are never blank between). The
        old faded lines are emptied one flush after the new model's curve went out: the
        browser applies each mark's update on its own, and emptying them in the same flush
        left a blank frame now and then."""
        for model_id in self._stale_faded & set(self.faded):
            del self.faded[model_id]
            for fig in self._figures():
                fig.unfade(model_id)
        self._stale_faded = set()
        drawn = [c.generation for c in self.curves.values() if c.batches]
        if drawn and drawn[0] != self._faded_generation:
            self._stale_faded = set(self.faded)
            self._faded_generation = drawn[0]

    def _fade(self, curve: Curve) -> None:
        """Move a finished model from its running marks to a faded line (bounded count).

        The running marks are emptied one flush later (``_free_retired``): the browser
        applies each mark's update on its own, so emptying them in the same flush as the
        faded line was drawn left a frame with neither now and then."""
        if curve.batches:  # else failed before training, or a duplicate (never trained)
            self._draw_faded(curve)
        self._retiring.append(curve.model_id)

    def _free_retired(self) -> None:
        """Empty the running marks of models faded in an earlier flush (unless running again)."""
        for model_id in self._retiring:
            if model_id not in self.curves:
                for fig in self._figures():
                    fig.free_slot(model_id)
        self._retiring = []

    def _draw_faded(self, curve: Curve) -> None:
        self._keep_finished(curve.model_id, FinishedCurve.from_curve(curve, self.max_points))
        if curve.generation != self._faded_generation:
            self._clear_faded()
            self._faded_generation = curve.generation
        points = min(self.max_points, FADED_POINTS)
        x, loss = decimate(*curve.series("loss"), points)
        _, accuracy = decimate(*curve.series("accuracy"), points)
        self.faded.pop(curve.model_id, None)
        if len(self.faded) >= MAX_FADED:
            oldest = next(iter(self.faded))
            del self.faded[oldest]
            for fig in self._figures():
                fig.unfade(oldest)
        self.faded[curve.model_id] = (x, loss, accuracy)
        self.loss_figure.fade(curve.model_id, x, loss, curve.colour)
        self.accuracy_figure.fade(curve.model_id, x, accuracy, curve.colour)

    def _clear_faded(self) -> None:
        for model_id in list(self.faded):
            for fig in self._figures():
                fig.unfade(model_id)
        self.faded.clear()

    def _draw(self, fig: _MetricFigure, curve: Curve, epoch_values, val_values) -> None:
        if not curve.batches:  # started, nothing to draw yet: keep the marks for others
            return
        line, epochs, validation = fig.slot_for(curve.model_id, curve.colour, self._retiring)
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

    def _fit_scales(self) -> None:
        """x: the running models' own batches (the faded ones are cut to it); y: robust."""
        running = list(self.curves.values())
        if any(c.batches for c in running):
            x_max = max(c.batches for c in running)
        elif self.faded:  # between models: the finished ones, whole
            running = []
            x_max = max(float(x[-1]) for x, _, _ in self.faded.values())
        else:
            return
        x_max = float(max(x_max, 1))
        for index, fig in enumerate(self._figures(), start=1):
            series = [np.asarray(c.series(fig.metric)[1], dtype=float) for c in running]
            ids = [c.model_id for c in running]
            for model_id, shown in self.faded.items():
                series.append(shown[index][shown[0] <= x_max])
                ids.append(model_id)
            with fig.x_scale.hold_sync():
                fig.x_scale.min, fig.x_scale.max = 0.0, x_max
            fitted = robust_range(series, fig.bounds)
            if fitted is None:
                continue
            low, high, left_out = fitted
            with fig.y_scale.hold_sync():
                fig.y_scale.min, fig.y_scale.max = _round(low), _round(high)
            if fig.metric == "loss":
                self.off_scale = [ids[i] for i in left_out]

    def _label(self) -> None:
        """Titles and the HTML legend (beside the figures, never over the data)."""
        running, faded = list(self.curves), list(self.faded)
        generation = self._faded_generation
        for fig in self._figures():
            if running:
                title = f"live {fig.metric}: {', '.join(running[:3])} training"
                title += f" (+{len(running) - 3})" if len(running) > 3 else ""
            elif faded:
                title = f"{fig.metric}: generation {generation}, {len(faded)} finished"
            else:
                title = f"live {fig.metric}: nothing trained yet (press grow)"
            if fig.metric == "loss" and self.off_scale:
                title += f" · off scale: {', '.join(self.off_scale[:2])}"
            fig.figure.title = title
        entries = [f"{_swatch(model_colour(m))}{html.escape(m)} training" for m in running]
        entries += [
            f"{_swatch(model_colour(m), FADED_OPACITY)}{html.escape(m)}" for m in reversed(faded)
        ]
        rows = " &nbsp; ".join(entries)
        self.live_legend.value = f"<div style='font-size:12px'>{rows}<br>{LIVE_KEY}</div>"

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
        """The best finished models of the whole run (by the clade's objectives)."""
        phenotypes = self.clade.phenotypes
        if phenotypes.empty:
            return []
        if not phenotypes["status"].isin(FINISHED_FOR_COMPARE).any():
            return []
        return [str(m) for m in self.clade.best(COMPARE_BEST)["model_id"]]

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

    def _compare_slot(self, index: int) -> tuple[bq.Lines, bq.Scatter]:
        while len(self._compare_slots) <= index:
            scales = {"x": self.compare_x, "y": self.compare_y}
            self._compare_slots.append(
                (
                    bq.Lines(x=EMPTY, y=EMPTY, scales=scales),
                    bq.Scatter(x=EMPTY, y=EMPTY, scales=scales, marker="circle", stroke="black"),
                )
            )
        return self._compare_slots[index]

    def _keep_finished(self, model_id: str, curve: FinishedCurve) -> None:
        self._finished.pop(model_id, None)
        if len(self._finished) >= 4 * COMPARE_BEST:
            del self._finished[next(iter(self._finished))]
        self._finished[model_id] = curve

    def finished_curve(self, model_id: str) -> FinishedCurve:
        """A finished model's curve: kept from training when this panel saw it (reading
        the folder's tables for each newly best model cost more than the live plot), else
        read from the folder once."""
        if model_id not in self._finished:
            batches = self.clade.growth(model_id, "batches")
            epochs = self.clade.growth(model_id, "epochs")
            curve = FinishedCurve.from_tables(batches, epochs, self.max_points)
            self._keep_finished(model_id, curve)
        return self._finished[model_id]

    def draw_compare(self) -> None:
        """Draw the chosen finished models' stored curves (decimated) on the compare figure,
        in pooled marks updated in place (one colour per model, as in every figure)."""
        metric = self.compare_metric
        pruned = self._pruned_ids()
        shown, curves, missing = [], [], []
        for model_id in self.compare_ids:
            try:
                curves.append(self.finished_curve(model_id))
                shown.append(model_id)
            except KeyError:  # its growth tables are gone (a damaged or hand-edited folder)
                missing.append(model_id)
        drawn = (metric, tuple(self.compare_ids), frozenset(pruned), curves)
        if self._compare_drawn is not None and _same_state(drawn, self._compare_drawn):
            return  # the picker, the best set and the metric each ask: draw a state once
        self._compare_drawn = drawn
        series: list[np.ndarray] = []
        entries: list[str] = []
        x_max = 1.0
        for i, (model_id, finished) in enumerate(zip(shown, curves, strict=True)):
            line, points = self._compare_slot(i)
            colour = model_colour(model_id)
            x, y, ex, ey = finished.series(metric)
            x_max = max(x_max, float(finished.batches))
            series.append(y)
            with line.hold_sync():
                line.x, line.y = x, y
                line.colors = [colour]
                line.line_style = "dashed" if model_id in pruned else "solid"
            with points.hold_sync():
                points.x, points.y = ex, ey
                points.colors = [colour]
            note = " (pruned)" if model_id in pruned else ""
            entries.append(f"{_swatch(colour, dashed=bool(note))}{html.escape(model_id)}{note}")
        entries += [
            f"<span style='color:#666'>{html.escape(m)}: no curve recorded "
            "(`dlgene check` lists the damage)</span>"
            for m in missing
        ]
        for line, points in self._compare_slots[len(shown) :]:
            for mark in (line, points):
                with mark.hold_sync():
                    mark.x, mark.y = EMPTY, EMPTY
        marks = [m for pair in self._compare_slots for m in pair]
        fitted = robust_range(series, (0.0, 1.0) if metric == "accuracy" else None)
        with self.compare_figure.hold_sync():
            if marks != list(self.compare_figure.marks):
                self.compare_figure.marks = marks
            self.compare_figure.axes[1].label = metric
            self.compare_figure.title = (
                f"finished models: {metric}" if self.compare_ids else "finished models: none yet"
            )
        with self.compare_x.hold_sync():
            self.compare_x.min, self.compare_x.max = 0.0, x_max
        if fitted is not None:
            with self.compare_y.hold_sync():
                self.compare_y.min, self.compare_y.max = _round(fitted[0]), _round(fitted[1])
        rows = "<br>".join(entries) or "none chosen"
        self.compare_legend.value = f"<div style='font-size:12px'>{rows}<br>{COMPARE_KEY}</div>"


def _same_state(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal keys and the very same curve objects (a model grown again has a new one)."""
    same_curves = len(a[-1]) == len(b[-1]) and all(
        x is y for x, y in zip(a[-1], b[-1], strict=True)
    )
    return a[:-1] == b[:-1] and same_curves


def _round(value: float) -> float:
    """Scale limits to 3 significant digits: fewer needless messages to the browser."""
    return float(f"{value:.3g}")
