"""GenerationViews: how the population did, generation by generation.

Train/test accuracy histograms of a chosen generation (the original's headline plot), the
best validation/test accuracy so far over generations, the confusion matrix of a chosen
model and its lineage. Everything is read from the core, so it is rebuilt on re-open.
"""

from __future__ import annotations

import html
import itertools
import threading

import bqplot as bq
import ipywidgets as widgets
import numpy as np
import pandas as pd
from traitlets import Bool, Int, Unicode, observe

from dlgene_core import Clade
from dlgene_core.population import USABLE_STATUSES

from ._hints import hint
from ._panel import Panel
from ._throttle import Throttle, when_idle

BINS = np.linspace(0.0, 1.0, 11)
NO_MATRIX_YET = "confusion matrix: shown once a model has finished"
_SMALL = widgets.Layout(width="440px", height="300px")


def accuracy_histogram(phenotypes: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Bin labels and a (2, bins) array of train / test accuracy counts."""
    labels = [f"{_short(lo)}-{_short(hi)}" for lo, hi in itertools.pairwise(BINS)]
    counts = np.zeros((2, len(labels)))
    usable = (
        phenotypes[phenotypes["status"].isin(USABLE_STATUSES)] if len(phenotypes) else phenotypes
    )
    for row, column in enumerate(("train_accuracy", "test_accuracy")):
        if len(usable) and column in usable:
            values = usable[column].astype(float).to_numpy()
            counts[row], _ = np.histogram(values[np.isfinite(values)], bins=BINS)
    return labels, counts


def _short(edge: float) -> str:
    """ ".3" for 0.3 and "1" for 1.0: ten bin labels fit under a small figure unrotated."""
    return "1" if edge >= 1.0 else f"{edge:.1f}"[1:]


def best_so_far(phenotypes: pd.DataFrame) -> pd.DataFrame:
    """Per generation: the best validation and test accuracy seen up to it."""
    usable = (
        phenotypes[phenotypes["status"].isin(USABLE_STATUSES)] if len(phenotypes) else phenotypes
    )
    if usable.empty:
        return pd.DataFrame(columns=["generation", "val_accuracy", "test_accuracy"])
    per_gen = usable.groupby("generation")[["val_accuracy", "test_accuracy"]].max().sort_index()
    return per_gen.cummax().reset_index()


def lineage_text(ancestry: pd.DataFrame, model_id: str) -> str:
    """The ancestry edges as an indented tree, one model per line."""
    parents: dict[str, list[str]] = {}
    for child, parent in zip(
        ancestry.get("child_id", []), ancestry.get("parent_id", []), strict=True
    ):
        parents.setdefault(str(child), []).append(str(parent))
    lines: list[str] = []

    def walk(node: str, depth: int, seen: frozenset[str]) -> None:
        lines.append("    " * depth + ("└─ " if depth else "") + node)
        if node in seen:
            return
        for parent in parents.get(node, []):
            walk(parent, depth + 1, seen | {node})

    walk(model_id, 0, frozenset())
    if len(lines) == 1:
        lines.append("    (spawned: no parents)")
    return "\n".join(lines)


class GenerationViews(Panel):
    """Histograms, best-so-far, confusion heatmap and lineage, from the clade's tables."""

    generation = Int(0, help="generation shown in the histograms")
    # not "model_id": that name is ipywidgets' own Widget.model_id (the comm id); a
    # trait of that name breaks every reference to this widget in the front end.
    shown_model = Unicode("", help="model shown in the heatmap and the lineage")
    follow_best = Bool(
        True, help="show the best model as results come in (off once one is picked by hand)"
    )

    def __init__(self, clade: Clade, max_rate_hz: float = 2.0):
        super().__init__()
        self.clade = clade
        self._lock = threading.RLock()
        self._drawn_model: str | None = None
        self.generation_picker = widgets.Dropdown(description="generation", options=[0])
        self.model_picker = widgets.Dropdown(description="model", options=[""])
        self.follow_toggle = widgets.Checkbox(description="follow the best", indent=False)
        widgets.link((self.generation_picker, "value"), (self, "generation"))
        widgets.link((self.model_picker, "value"), (self, "shown_model"))
        widgets.link((self, "follow_best"), (self.follow_toggle, "value"))  # trait first: it wins
        x_bins, y_count = bq.OrdinalScale(), bq.LinearScale(min=0, max=1)
        self._count_scale = y_count
        self.histogram = bq.Bars(
            x=[],
            y=[[], []],
            scales={"x": x_bins, "y": y_count},
            type="grouped",
            colors=["#1f77b4", "#ff7f0e"],
            labels=["train accuracy", "test accuracy"],
            display_legend=True,
        )
        self.histogram_figure = bq.Figure(
            marks=[self.histogram],
            title="accuracy histogram",
            layout=_SMALL,
            animation_duration=0,
            axes=[
                bq.Axis(scale=x_bins, label="accuracy"),
                bq.Axis(scale=y_count, orientation="vertical", label="models", tick_format="d"),
            ],
        ).add_class("dlgene-histogram-fig")
        x_gen, y_acc = bq.LinearScale(min=0, max=1), bq.LinearScale(min=0, max=1)
        self._generation_scale, self._accuracy_scale = x_gen, y_acc
        self.best_lines = bq.Lines(
            x=[],
            y=[[], []],
            scales={"x": x_gen, "y": y_acc},
            colors=["#2ca02c", "#9467bd"],
            labels=["best val accuracy", "best test accuracy"],
            display_legend=True,
            marker="circle",
        )
        self.best_figure = bq.Figure(
            marks=[self.best_lines],
            title="best so far",
            layout=_SMALL,
            animation_duration=0,
            legend_location="bottom-right",  # a rising curve leaves that corner free
            axes=[
                bq.Axis(scale=x_gen, label="generation", tick_format="d", tick_values=[0, 1]),
                bq.Axis(scale=y_acc, orientation="vertical", label="accuracy"),
            ],
        ).add_class("dlgene-best-fig")
        rows, columns = bq.OrdinalScale(reverse=True), bq.OrdinalScale()
        self.heatmap = bq.GridHeatMap(
            color=np.zeros((2, 2)),  # bqplot squeezes arrays: a 1x1 grid would be 0-d
            scales={"row": rows, "column": columns, "color": bq.ColorScale(scheme="Blues")},
        )
        self.heatmap_figure = bq.Figure(
            marks=[],  # no placeholder grid: the mark joins once a model has finished
            title=NO_MATRIX_YET,
            layout=_SMALL,
            animation_duration=0,
            axes=[
                bq.Axis(scale=columns, label="predicted"),
                bq.Axis(scale=rows, orientation="vertical", label="true"),
            ],
        ).add_class("dlgene-confusion-fig")
        self.lineage = widgets.HTML("").add_class("dlgene-lineage")
        self.children = [
            widgets.HBox([self.generation_picker, self.model_picker, self.follow_toggle]),
            widgets.HBox([self.histogram_figure, self.best_figure]),
            widgets.HBox([self.heatmap_figure, self.lineage]),
        ]
        self.add_class("dlgene-generation-views")
        self._throttle = Throttle(
            self.refresh, max_rate_hz, name="generation-views", sync_on_main_thread=when_idle(clade)
        )
        names = ["phenotypes", "generation"]
        clade.observe(self._on_clade_change, names=names)
        self.on_close(lambda: clade.unobserve(self._on_clade_change, names=names))
        self.on_close(self._throttle.close)
        self.refresh()

    def _on_clade_change(self, _change) -> None:
        self._throttle.request()

    def refresh(self) -> None:
        """Re-read the phenotypes: pickers, histogram and best-so-far."""
        with self._lock:
            phenotypes = self.clade.phenotypes
            generations = (
                sorted({int(g) for g in phenotypes["generation"]}) if len(phenotypes) else []
            )
            generations = generations or [self.clade.generation]
            if list(self.generation_picker.options) != generations:
                self.generation_picker.options = generations
                self.generation_picker.value = generations[-1]
            # best first (by the selection metric), so the heatmap opens on the best model
            finished = [str(m) for m in self.clade.best(n=len(phenotypes))["model_id"]]
            options = finished or [""]
            keep = self.shown_model if self.shown_model in options else options[0]
            if self.follow_best:
                keep = options[0]
            if list(self.model_picker.options) != options or self.shown_model != keep:
                with self.setting_itself():  # not a pick by hand
                    self.model_picker.options = options
                    self.model_picker.value = keep
            self._draw_histogram()
            best = best_so_far(phenotypes)
            self._fit_best_axes(best)
            if len(best) == 1:  # bqplot squeezes a (2, 1) y into one line: draw a point twice
                best = pd.concat([best, best], ignore_index=True)
            with self.best_lines.hold_sync():
                self.best_lines.x = best["generation"].to_numpy(dtype=float)
                self.best_lines.y = [
                    best["val_accuracy"].to_numpy(dtype=float),
                    best["test_accuracy"].to_numpy(dtype=float),
                ]
            if self._drawn_model != self.shown_model:  # the confusion file is read once per model
                self._draw_model()

    def _fit_best_axes(self, best: pd.DataFrame) -> None:
        """Whole-generation ticks and a padded accuracy range (one point has no span)."""
        generations = [int(g) for g in best["generation"]] or [0]
        self._generation_scale.min, self._generation_scale.max = 0.0, float(max(1, generations[-1]))
        self.best_figure.axes[0].tick_values = list(range(max(1, generations[-1]) + 1))
        values = best[["val_accuracy", "test_accuracy"]].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        self._accuracy_scale.min = max(0.0, low - 0.05)
        self._accuracy_scale.max = min(1.0, high + 0.05)

    @observe("generation")
    def _on_generation(self, _change) -> None:
        if hasattr(self, "_throttle"):
            self._draw_histogram()

    @observe("shown_model")
    def _on_model(self, _change) -> None:
        if not hasattr(self, "_throttle"):
            return
        if self.picked_by_hand:
            self.follow_best = False  # keep it
        self._draw_model()

    @observe("follow_best")
    def _on_follow_best(self, change) -> None:
        if change["new"] and hasattr(self, "_throttle"):
            self.refresh()

    def _draw_histogram(self) -> None:
        labels, counts = accuracy_histogram(self.clade.generation_phenotypes(self.generation))
        # an explicit domain (bars show), whole-model ticks and headroom for the legend
        top = int(max(1.0, counts.max()))
        self._count_scale.max = float(top + max(1, round(0.4 * top)))
        step = max(1, int(np.ceil(top / 8)))
        self.histogram_figure.axes[1].tick_values = list(
            range(0, int(self._count_scale.max) + 1, step)
        )
        with self.histogram.hold_sync():
            self.histogram.x, self.histogram.y = labels, counts
        title = f"accuracy histogram, generation {self.generation}"
        self.histogram_figure.title = title if counts.any() else f"{title}: no finished model yet"

    def _draw_model(self) -> None:
        model_id = self._drawn_model = self.shown_model
        if not model_id:
            self.lineage.value = hint("lineage: shown once a model has finished")
            return
        try:
            matrix = np.asarray(self.clade.confusion_matrix(model_id), dtype=float)
        except (KeyError, FileNotFoundError, OSError) as exc:  # e.g. a folder from elsewhere
            self.heatmap_figure.title = f"no confusion matrix for {model_id}: {exc}"
            matrix = None
        if matrix is not None and matrix.ndim == 2 and min(matrix.shape) >= 2:
            self._draw_heatmap(model_id, matrix)
        elif matrix is not None:
            self.heatmap_figure.title = f"confusion matrix of {model_id}: shape {matrix.shape}"
        tree = lineage_text(self.clade.ancestry(model_id), model_id)
        self.lineage.value = (
            f"<b>lineage of {html.escape(model_id)}</b><pre>{html.escape(tree)}</pre>"
        )

    def _draw_heatmap(self, model_id: str, matrix: np.ndarray) -> None:
        with self._lock, self.heatmap.hold_sync():
            # clear row/column first: bqplot checks them against the color grid's shape
            self.heatmap.row, self.heatmap.column = None, None
            self.heatmap.color = matrix
            self.heatmap.row = np.arange(matrix.shape[0])
            self.heatmap.column = np.arange(matrix.shape[1])
        if not self.heatmap_figure.marks:
            self.heatmap_figure.marks = [self.heatmap]
        self.heatmap_figure.title = f"confusion matrix of {model_id} (test)"
