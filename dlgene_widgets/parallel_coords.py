"""Parallel coordinates of genes against the metric, with a brush, and gene importance.

One bqplot ``Lines`` mark with one row per finished model (its colour ``model_colour``)
across one vertical axis per gene and the metric last. Every axis is normalised to 0..1
on a shared y scale; each axis carries its own scale over the gene's raw range, so ticks
read in the gene's units, and text genes are their sorted categories at 0, 1, ... with the
category names as tick labels.

Brushing: a vertical ``BrushIntervalSelector`` on the shared y scale, applied to the axis
chosen in "brush on" (the metric by default). bqplot gives a figure one interaction at a
time, so one brush per axis at once is not available; one interval brush with an axis picker
is native bqplot, syncs its interval back to the kernel (testable without a browser) and
needs no extra widgets per gene. The models inside the interval become
``selection.filtered_ids`` (which filters the grid); models outside are faded.

GeneImportance: the permutation importance of :mod:`dlgene_core.importance` as bars.
"""

from __future__ import annotations

import html
import threading

import bqplot as bq
import ipywidgets as widgets
import numpy as np
import pandas as pd
from traitlets import Unicode, observe

from dlgene_core import Clade
from dlgene_core.config import objectives_of
from dlgene_core.importance import MIN_MODELS, categories, encode, gene_features, gene_importance

from ._panel import Panel
from .overview import overview_frame
from .selection import ModelSelection, model_colour

# filtered_ids meaning "the brush keeps no model" ([] means all): one id no model has
KEEP_NONE = [""]


def _short_label(name: str) -> str:
    """Axis names short enough to sit side by side: 'layers_units (mean)' -> 'units'
    (the note says that list genes are their mean or most common value)."""
    name = name.replace(" (most common)", "").replace(" (mean)", "")
    return name.split("_", 1)[1] if name.startswith("layers_") else name


LOG_SPAN = 20.0  # a positive gene whose high / low exceeds this gets a log axis


def to_position(d: dict, value: np.ndarray | float) -> np.ndarray | float:
    """A raw value's 0..1 place on axis ``d`` (log10 on a log axis)."""
    if d.get("log"):
        return (np.log10(value) - np.log10(d["low"])) / (np.log10(d["high"]) - np.log10(d["low"]))
    return (np.asarray(value) - d["low"]) / (d["high"] - d["low"])


def to_value(d: dict, position: float) -> float:
    """The raw value at 0..1 place ``position`` on axis ``d``."""
    if d.get("log"):
        logs = np.log10(d["low"]), np.log10(d["high"])
        return float(10 ** (logs[0] + position * (logs[1] - logs[0])))
    return float(d["low"] + position * (d["high"] - d["low"]))


def features_and_metric(clade: Clade) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Every finished model with a metric: its gene features (rows by model id, in the
    overview's order) and its metric values; None before the first such model. The
    parallel coordinates and the importance bars each build it once per refresh."""
    frame = overview_frame(clade)
    genotypes = clade.all_genotypes
    if frame.empty or genotypes.empty:
        return None
    metric = objectives_of(clade.config)[0][0]
    rows = genotypes[genotypes["model_id"].isin(set(frame["model_id"]))]
    features = gene_features(rows).reindex([str(m) for m in frame["model_id"]])
    return features, frame[metric].astype(float).to_numpy()


def coordinates(clade: Clade) -> tuple[pd.DataFrame, np.ndarray, list[dict]]:
    """The raw dimensions (genes, then the metric) of every finished model with a metric,
    their 0..1 positions (models x dimensions) and per dimension its axis: name, low, high
    and, for text genes, the categories."""
    found = features_and_metric(clade)
    if found is None:
        return pd.DataFrame(), np.zeros((0, 0)), []
    features, metric_values = found
    metric = objectives_of(clade.config)[0][0]
    cats = categories(features)
    codes = encode(features)
    values = np.column_stack([codes, metric_values])
    names = [*features.columns, metric]
    axes, positions = [], np.zeros_like(values)
    for j, name in enumerate(names):
        column = values[:, j]
        if name in cats:
            low, high = 0.0, float(max(1, len(cats[name]) - 1))
        else:
            finite = column[np.isfinite(column)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            if high == low:
                low, high = low - 0.5, high + 0.5
        integer = bool(np.all(np.mod(column[np.isfinite(column)], 1) == 0))
        # learning rates span decades: on a linear axis all but the largest sit at the bottom
        log = name not in cats and low > 0 and high / low > LOG_SPAN
        axis = {"name": name, "low": low, "high": high, "categories": cats.get(name)}
        axis |= {"integer": integer, "log": log}
        positions[:, j] = to_position(axis, column)
        axes.append(axis)
    raw = pd.DataFrame(values, columns=names, index=features.index)
    return raw, np.nan_to_num(positions, nan=0.0), axes


class ParallelCoordinates(Panel):
    """Genes and the metric of every finished model as lines, brushable on one axis."""

    brush_axis = Unicode("", help="the dimension the brush filters ('' = the metric)")

    def __init__(
        self, clade: Clade, selection: ModelSelection | None = None, max_rate_hz: float = 1.0
    ):
        super().__init__()
        self.clade = clade
        self.selection = selection if selection is not None else ModelSelection()
        self._lock = threading.RLock()
        self.metric = objectives_of(clade.config)[0][0]
        self.ids: list[str] = []
        self.dimensions: list[dict] = []
        self.positions = np.zeros((0, 0))
        self.kept_ids: list[str] | None = None  # None: no brush
        self._x = bq.OrdinalScale()
        self._y = bq.LinearScale(min=0.0, max=1.0)
        self.lines = bq.Lines(
            x=[], y=[], scales={"x": self._x, "y": self._y}, stroke_width=1.5, colors=["#1f77b4"]
        )
        self.selected_line = bq.Lines(
            x=[], y=[], scales={"x": self._x, "y": self._y}, stroke_width=4, colors=["#000000"]
        )
        self.brush = bq.interacts.BrushIntervalSelector(
            scale=self._y, orientation="vertical", marks=[self.lines], color="#ff7f0e"
        )
        self.figure = bq.Figure(
            marks=[self.lines, self.selected_line],
            axes=[bq.Axis(scale=self._x, label="")],
            interaction=self.brush,
            title="genes against the metric",
            animation_duration=0,
            fig_margin={"top": 56, "bottom": 40, "left": 60, "right": 50},
            layout=widgets.Layout(width="1000px", height="420px"),
        ).add_class("dlgene-parallel-fig")
        self.brush_picker = widgets.Dropdown(
            description="brush on", options=[self.metric], value=self.metric
        ).add_class("dlgene-brush-axis")
        self.clear_button = widgets.Button(description="clear brush", icon="eraser").add_class(
            "dlgene-brush-clear"
        )
        self.note = widgets.HTML("").add_class("dlgene-parallel-note")
        self.brush.observe(self._on_brush, names=["selected", "brushing"])
        self.brush_picker.observe(self._on_brush_axis, names="value")
        self.clear_button.on_click(lambda _b: self.clear_brush())
        self.children = [
            widgets.HBox([self.brush_picker, self.clear_button]),
            self.figure,
            self.note,
        ]
        self.add_class("dlgene-parallel")
        self.follow(clade, ["phenotypes"], max_rate_hz, "parallel-coords")
        self.selection.observe(self._on_selection, names="model_id")
        self.on_close(lambda: self.selection.unobserve(self._on_selection, names="model_id"))
        self.refresh()

    def refresh(self) -> None:
        with self._lock:
            raw, positions, dims = coordinates(self.clade)
            self.ids, self.positions, self.dimensions = list(raw.index), positions, dims
            names = [d["name"] for d in dims]
            if names and list(self.brush_picker.options) != names:
                keep = self.brush_axis if self.brush_axis in names else self.metric
                with self.setting_itself():  # new options pick their first: not a choice
                    self.brush_picker.options = names
                    self.brush_picker.value = keep
            self._draw_axes()
            with self.lines.hold_sync():
                self.lines.x = names if names else []
                self.lines.y = positions if len(positions) else []
                self.lines.colors = [model_colour(m) for m in self.ids] or ["#1f77b4"]
            self._apply_brush()
            self._draw_selected()

    def _draw_axes(self) -> None:
        axes = [
            bq.Axis(
                scale=self._x,
                label="",
                tick_labels={d["name"]: _short_label(d["name"]) for d in self.dimensions},
            )
        ]
        for d in self.dimensions:
            scale_class = bq.LogScale if d.get("log") else bq.LinearScale
            scale = scale_class(min=d["low"], max=d["high"])
            options = {}
            if d.get("log"):
                ticks = np.geomspace(d["low"], d["high"], 5)
                options = {"tick_values": [float(t) for t in ticks], "tick_format": ".2~r"}
            elif d["categories"] is not None:
                ticks = list(range(len(d["categories"])))
                options = {
                    "tick_values": ticks,
                    "tick_labels": dict(zip(ticks, d["categories"], strict=True)),
                }
            elif float(d["low"]).is_integer() and d["high"] - d["low"] <= 8 and d["integer"]:
                options = {
                    "tick_values": list(range(int(d["low"]), int(d["high"]) + 1)),
                    "tick_format": "d",
                }
            else:
                ticks = np.linspace(d["low"], d["high"], 5)
                options = {"tick_values": [float(t) for t in ticks], "tick_format": ".2~g"}
            axes.append(
                bq.Axis(
                    scale=scale,
                    orientation="vertical",
                    offset={"scale": self._x, "value": d["name"]},
                    grid_lines="none",
                    **options,
                )
            )
        if len(axes) != len(self.figure.axes) or any(
            a.offset != b.offset or a.tick_labels != b.tick_labels
            for a, b in zip(axes, self.figure.axes, strict=True)
        ):
            self.figure.axes = axes
        if self.dimensions:
            self.figure.axes[0].tick_labels = {
                d["name"]: _short_label(d["name"]) for d in self.dimensions
            }

    # ------------------------------------------------------------------ brushing
    def _on_brush_axis(self, change) -> None:
        if self.picked_by_hand:
            self.brush_axis = change["new"] or ""

    @observe("brush_axis")
    def _on_brush_axis_trait(self, _change) -> None:
        if hasattr(self, "_throttle"):
            self._apply_brush()

    def _on_brush(self, _change) -> None:
        # filter once the drag ends: the browser buffers a drag's updates while the kernel
        # is busy and may send its last one after a later click (clear brush), which would
        # brush again with a stale interval; filtering also costs a grid redraw per update
        if not self.brush.brushing:
            self._apply_brush()

    def clear_brush(self) -> None:
        """Drop the brush: every model is kept again. The browser's brush is reset too, or
        it would send its old interval back and brush again."""
        self.brush.reset()
        self.brush.selected = None
        self._apply_brush()

    def brush_range(self, low: float, high: float) -> None:
        """Brush the chosen axis over [low, high] in its own units (what a drag does)."""
        d = self._dimension(self.brush_axis or self.metric)
        self.brush.selected = np.array([to_position(d, low), to_position(d, high)])

    def _dimension(self, name: str) -> dict:
        for d in self.dimensions:
            if d["name"] == name:
                return d
        raise ValueError(
            f"brush_axis: {name!r} is no axis; allowed: {[d['name'] for d in self.dimensions]}"
        )

    def _apply_brush(self) -> None:
        selected = self.brush.selected
        name = self.brush_axis or self.metric
        # a zero-width interval is a click, not a brush (the browser also sends one back
        # after a reset, and it would have kept no model)
        empty = selected is None or len(selected) != 2 or float(selected[0]) == float(selected[1])
        if empty or not self.dimensions:
            self.kept_ids = None
            opacities = [1.0] * len(self.ids)
            if self.selection.filtered_ids:
                self.selection.filtered_ids = []
            self.note.value = self._note(
                "drag up or down over the figure to brush the axis chosen in 'brush on'; "
                "per-layer genes show their mean (numbers) or most common value (text)"
            )
        else:
            low, high = sorted(float(v) for v in selected)
            column = [d["name"] for d in self.dimensions].index(name)
            inside = (self.positions[:, column] >= low) & (self.positions[:, column] <= high)
            self.kept_ids = [m for m, keep in zip(self.ids, inside, strict=True) if keep]
            opacities = [1.0 if keep else 0.12 for keep in inside]
            self.selection.filtered_ids = self.kept_ids or list(KEEP_NONE)
            d = self.dimensions[column]
            self.note.value = self._note(
                f"brush: {html.escape(_short_label(name))} in "
                f"[{to_value(d, low):.3g}, {to_value(d, high):.3g}]: "
                f"{len(self.kept_ids)} of {len(self.ids)} models kept (the grid shows them)"
            )
        self.lines.opacities = opacities

    def _note(self, text: str) -> str:
        if not self.ids:
            text = "no finished model yet: a line per model appears as models finish"
        return f"<span style='color:#666'>{text}</span>"

    # ------------------------------------------------------------------ selection
    def _on_selection(self, _change) -> None:
        with self._lock:
            self._draw_selected()

    def _draw_selected(self) -> None:
        model_id = self.selection.model_id
        with self.selected_line.hold_sync():
            if model_id in self.ids and self.dimensions:
                row = self.positions[self.ids.index(model_id)]
                self.selected_line.x = [d["name"] for d in self.dimensions]
                self.selected_line.y = row
                self.selected_line.colors = [model_colour(model_id)]
            else:
                self.selected_line.x, self.selected_line.y = [], []


class GeneImportance(Panel):
    """Bars of each gene's permutation importance for the metric.

    Fitting the forest takes 0.3-1 s of a core for 30-100 models, which a 2-core machine
    would take from training if it ran as every model finished; so it is recomputed only
    while the panel is ``active`` (the dashboard makes it active while its tab is shown),
    and once more when it becomes active after models finished."""

    def __init__(self, clade: Clade, max_rate_hz: float = 0.5, active: bool = True):
        super().__init__()
        self.clade = clade
        self._lock = threading.RLock()
        self.metric = objectives_of(clade.config)[0][0]
        self.table = pd.DataFrame(columns=["gene", "importance", "std"])
        self.active = active
        self._stale = not active  # nothing fitted yet: catch up when first shown
        self._computed_for = -1
        self._x, self._y = bq.OrdinalScale(reverse=True), bq.LinearScale(min=0.0)
        self.bars = bq.Bars(
            x=[],
            y=[],
            scales={"x": self._x, "y": self._y},
            orientation="horizontal",
            colors=["#4c78a8"],
        )
        self.figure = bq.Figure(
            marks=[self.bars],
            axes=[
                bq.Axis(scale=self._x, orientation="vertical"),
                bq.Axis(scale=self._y, label="importance (drop in R², shuffled)", num_ticks=5),
            ],
            title=f"gene importance for {self.metric}",
            animation_duration=0,
            fig_margin={"top": 40, "bottom": 50, "left": 150, "right": 40},
            layout=widgets.Layout(width="640px", height="380px"),
        ).add_class("dlgene-importance-fig")
        self.note = widgets.HTML("").add_class("dlgene-importance-note")
        self.children = [self.figure, self.note]
        self.add_class("dlgene-importance")
        self.follow(clade, ["phenotypes"], max_rate_hz, "gene-importance")
        self.refresh()

    def refresh(self) -> None:
        with self._lock:
            if not self.active:
                return
            features, metric_values = features_and_metric(self.clade) or (pd.DataFrame(), [])
            if len(features) == self._computed_for:
                return
            self._computed_for = len(features)
            if len(features) < MIN_MODELS:
                self.table = self.table.iloc[0:0]
                self.bars.x, self.bars.y = [], []
                self.note.value = (
                    f"<span style='color:#666'>gene importance needs at least {MIN_MODELS} "
                    f"finished models with a {html.escape(self.metric)}; "
                    f"{len(features)} so far</span>"
                )
                return
            self.table = gene_importance(features, np.asarray(metric_values))
            shown = self.table.assign(importance=self.table["importance"].clip(lower=0.0))
            with self.bars.hold_sync():
                self.bars.x = [_short_label(g) for g in shown["gene"]]
                self.bars.y = shown["importance"].to_numpy(dtype=float)
            self.note.value = (
                "<span style='color:#666'>permutation importance of a random forest fitted on "
                f"{len(features)} models (genes &rarr; {html.escape(self.metric)}): how much the "
                "forest's fit drops when one gene is shuffled. Relative, not causal.</span>"
            )
