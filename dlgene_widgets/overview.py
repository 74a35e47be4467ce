"""OverviewScatter: every finished model of the run at a glance, with its front.

One point per finished model (all generations) with a metric: x switchable between
generation, ``n_params`` and ``train_time``, y the first objective, coloured by generation or
status. The front is drawn as a line: with two objectives and x the second one, the clade's
Pareto front (``clade.pareto()``); otherwise the models no other model beats on y with a
smaller (or equal) x, the "best so far" along x. Hover shows the genotype in short; a click
selects the model in every panel through the shared ``ModelSelection``.
"""

from __future__ import annotations

import html
import math
import threading
from collections.abc import Sequence
from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np
import pandas as pd
from traitlets import Unicode, observe

from dlgene_core import Clade
from dlgene_core.config import objectives_of
from dlgene_core.importance import NOT_GENES
from dlgene_core.pareto import non_dominated_sort
from dlgene_core.records import FINISHED_STATUSES, USABLE_STATUSES

from ._panel import Panel
from .population_table import STATUS_COLOURS
from .selection import ModelSelection

X_CHOICES = ("generation", "n_params", "train_time")
COLOUR_CHOICES = ("generation", "status")
_ABBREVIATIONS = {"learning_rate": "lr", "batch_size": "bs", "epochs": "ep", "optimizer": ""}


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


def short_genotype(row: pd.Series | dict[str, Any]) -> str:
    """A genotype in one line: 'adam lr=0.003 bs=32 ep=5 | units=[64 32] activation=[relu
    tanh]' (per-layer lists with their segment prefix dropped; all-'none'/0 lists left out)."""
    scalars, lists = [], []
    for column, value in dict(row).items():
        if column in NOT_GENES or str(column).startswith("nb_"):
            continue
        if isinstance(value, list | tuple | np.ndarray):
            items = list(value)
            if all(str(v) in ("none", "0", "0.0") for v in items):
                continue
            name = str(column).split("_", 1)[-1]
            lists.append(f"{name}=[{' '.join(_fmt(v) for v in items)}]")
        else:
            label = _ABBREVIATIONS.get(str(column), str(column))
            scalars.append(f"{label}={_fmt(value)}" if label else _fmt(value))
    return " ".join(scalars) + (" | " + " ".join(lists) if lists else "")


def overview_frame(clade: Clade) -> pd.DataFrame:
    """Every finished model with a finite first-objective value, oldest first, with its
    genotype in short (``short``)."""
    metric = objectives_of(clade.config)[0][0]
    phenotypes = clade.phenotypes
    columns = ["model_id", "generation", "status", "n_params", "train_time", metric, "short"]
    if phenotypes.empty:
        return pd.DataFrame(columns=list(dict.fromkeys(columns)))
    frame = phenotypes[phenotypes["status"].isin(FINISHED_STATUSES)].copy()
    frame = frame[np.isfinite(frame[metric].astype(float))]
    genotypes = clade.all_genotypes
    shorts = {}
    if len(genotypes):
        for record in genotypes.to_dict("records"):
            shorts[str(record["model_id"])] = short_genotype(record)
    frame["short"] = [shorts.get(str(m), "") for m in frame["model_id"]]
    for column in ("n_params", "train_time"):
        frame[column] = frame[column].astype(float)
    frame["generation"] = frame["generation"].astype(int)
    return frame.sort_values(["generation", "model_id"]).reset_index(drop=True)


def front_ids(
    frame: pd.DataFrame, x: str, y: str, y_direction: str, x_direction: str = "min"
) -> list[str]:
    """Usable models that no other usable model beats on (x, y) in the given directions,
    ordered by x: the front in the plane the scatter shows."""
    usable = frame[frame["status"].isin(USABLE_STATUSES)]
    values = usable[[y, x]].astype(float).to_numpy()
    usable = usable[np.all(np.isfinite(values), axis=1)]
    if usable.empty:
        return []
    fronts = non_dominated_sort(usable[[y, x]].astype(float).to_numpy(), [y_direction, x_direction])
    front = usable.iloc[fronts[0]]
    front = front.sort_values([x, y], ascending=[True, y_direction == "min"])
    return [str(m) for m in front["model_id"]]


class OverviewScatter(Panel):
    """All finished models: metric against generation / size / time, with the front."""

    x_column = Unicode("generation", help="x axis: generation, n_params or train_time")
    colour_by = Unicode("generation", help="point colour: generation or status")

    def __init__(
        self, clade: Clade, selection: ModelSelection | None = None, max_rate_hz: float = 2.0
    ):
        super().__init__()
        self.clade = clade
        self.selection = selection if selection is not None else ModelSelection()
        self._lock = threading.RLock()
        self.frame = overview_frame(clade)
        self.ids: list[str] = []
        self.front: list[str] = []
        self._fronts: dict[str, list[str]] = {}  # x column -> front of self.frame
        objectives = objectives_of(clade.config)
        self.metric, self.metric_direction = objectives[0]
        if len(objectives) >= 2 and objectives[1][0] in X_CHOICES:
            self.x_column = objectives[1][0]  # open on the trade-off the run searches
        self.x_picker = widgets.Dropdown(
            options=list(X_CHOICES), value=self.x_column, description="x"
        ).add_class("dlgene-overview-x")
        self.colour_picker = widgets.Dropdown(
            options=list(COLOUR_CHOICES), value=self.colour_by, description="colour"
        ).add_class("dlgene-overview-colour")
        widgets.link((self.x_picker, "value"), (self, "x_column"))
        widgets.link((self.colour_picker, "value"), (self, "colour_by"))
        self._x_linear, self._x_log = bq.LinearScale(), bq.LogScale()
        self._y = bq.LinearScale()
        # A fixed domain: a colour keeps its generation as the run grows, and the colour bar
        # has ticks before any model has finished (an empty domain drew them at NaN).
        self._colour_scale = bq.ColorScale(scheme="viridis", min=0.0, max=1.0)
        self.scatter = bq.Scatter(
            x=[],
            y=[],
            scales={"x": self._x_linear, "y": self._y, "color": self._colour_scale},
            names=[],
            display_names=False,
            default_size=48,
            stroke="white",
            interactions={"click": "select", "hover": "tooltip"},
            selected_style={"stroke": "black", "stroke-width": 3, "opacity": 1.0},
            unselected_style={"opacity": 0.55},
            tooltip=bq.Tooltip(fields=["name"], show_labels=False),
            labels=["models"],
        )
        self.front_line = bq.Lines(
            x=[],
            y=[],
            scales={"x": self._x_linear, "y": self._y},
            colors=["#222222"],
            stroke_width=2,
            labels=["front"],
            display_legend=True,
        )
        self.x_axis = bq.Axis(scale=self._x_linear, label=self.x_column, num_ticks=6)
        self.y_axis = bq.Axis(
            scale=self._y,
            orientation="vertical",
            label=self.metric,
            tick_format=".3~g",
            label_offset="42px",
        )
        self.colour_axis = bq.ColorAxis(
            scale=self._colour_scale,
            label="generation",
            orientation="vertical",
            side="right",
            tick_format="d",
            label_offset="36px",
        )
        self.figure = bq.Figure(
            marks=[self.front_line, self.scatter],
            axes=[self.x_axis, self.y_axis, self.colour_axis],
            title="all models",
            animation_duration=0,
            legend_location="bottom-right",
            fig_margin={"top": 40, "bottom": 50, "left": 70, "right": 90},
            layout=widgets.Layout(width="640px", height="400px"),
        ).add_class("dlgene-overview-fig")
        self.note = widgets.HTML("").add_class("dlgene-overview-note")
        self.scatter.observe(self._on_point_selected, names="selected")
        self.children = [
            widgets.HBox([self.x_picker, self.colour_picker]),
            self.figure,
            self.note,
        ]
        self.add_class("dlgene-overview")
        self.follow(clade, ["phenotypes"], max_rate_hz, "overview")
        self.selection.observe(self._on_selection, names="model_id")
        self.on_close(lambda: self.selection.unobserve(self._on_selection, names="model_id"))
        self.refresh()

    @observe("x_column", "colour_by")
    def _on_view_change(self, _change) -> None:
        if hasattr(self, "_throttle"):
            self.draw()

    def refresh(self) -> None:
        """Re-read the clade's finished models and redraw, unless they are what is drawn
        (phenotypes also change when a model starts; its dot comes when it finishes)."""
        with self._lock:
            frame = overview_frame(self.clade)
            if self.ids and frame.equals(self.frame):
                self._write_note(frame)  # a failed model (no metric) changes only the note
                return
            self.frame, self._fronts = frame, {}
            self.draw()

    # ------------------------------------------------------------------ drawing
    def front_for(self, x: str) -> list[str]:
        """The front in the (x, metric) plane: the clade's Pareto front when x is the
        second objective, else the best-so-far front along x. Computed once per frame and
        x (switching x back and forth does not sort the run again)."""
        if x not in self._fronts:
            self._fronts[x] = self._compute_front(x)
        return self._fronts[x]

    def _compute_front(self, x: str) -> list[str]:
        objectives = objectives_of(self.clade.config)
        if len(objectives) == 2 and objectives[1][0] == x:
            pareto = self.clade.pareto()
            if pareto.empty:
                return []
            shown = self.frame[self.frame["model_id"].isin(set(pareto["model_id"]))]
            return [str(m) for m in shown.sort_values([x, self.metric])["model_id"]]
        direction = dict(objectives).get(x, "min")
        return front_ids(self.frame, x, self.metric, self.metric_direction, direction)

    def draw(self) -> None:
        with self._lock:
            frame, x = self.frame, self.x_column
            ids = [str(m) for m in frame["model_id"]]
            xs = frame[x].astype(float).to_numpy() if len(frame) else np.zeros(0)
            ys = frame[self.metric].astype(float).to_numpy() if len(frame) else np.zeros(0)
            log_x = x == "n_params" and len(xs) and np.all(xs > 0)
            x_scale = self._x_log if log_x else self._x_linear
            self.front = self.front_for(x) if len(frame) else []
            position = {m: i for i, m in enumerate(ids)}
            front_rows = [position[m] for m in self.front if m in position]
            selected = (
                [position[self.selection.model_id]] if self.selection.model_id in position else None
            )
            with self.scatter.hold_sync():
                self.scatter.scales = {"x": x_scale, "y": self._y, "color": self._colour_scale}
                self.scatter.x, self.scatter.y = xs, ys
                self.scatter.names = [f"{m}: {s}" for m, s in zip(ids, frame["short"], strict=True)]
                if self.colour_by == "generation":
                    self.scatter.color = frame["generation"].to_numpy(dtype=float)
                    self.scatter.colors = ["steelblue"]
                else:
                    self.scatter.color = None
                    self.scatter.colors = [
                        STATUS_COLOURS.get(str(s), "#000") for s in frame["status"]
                    ] or ["steelblue"]
                self.scatter.selected = selected
            self.ids = ids
            with self.front_line.hold_sync():
                self.front_line.scales = {"x": x_scale, "y": self._y}
                self.front_line.x = xs[front_rows] if front_rows else []
                self.front_line.y = ys[front_rows] if front_rows else []
                two = len(objectives_of(self.clade.config)) == 2
                pareto = two and objectives_of(self.clade.config)[1][0] == x
                self.front_line.labels = ["Pareto front" if pareto else "best-so-far front"]
            self.x_axis.scale = x_scale
            self.x_axis.label = x
            self.x_axis.tick_format = "d" if x == "generation" else ".2s" if log_x else ".3~g"
            generations = frame["generation"].to_numpy(dtype=int) if len(frame) else []
            last = max(int(max(generations, default=0)), self.clade.config.generations - 1, 1)
            self._colour_scale.min, self._colour_scale.max = 0.0, float(last)
            step = math.ceil((last + 1) / 8)  # at most 8 ticks on a long run
            self.colour_axis.tick_values = list(range(0, last + 1, step))
            if x == "generation" and len(xs):
                self.x_axis.tick_values = list(range(int(xs.max()) + 1))
                self._x_linear.min, self._x_linear.max = -0.5, float(xs.max()) + 0.5
            else:
                self.x_axis.tick_values = []
                self._x_linear.min = self._x_linear.max = None
            self.colour_axis.visible = self.colour_by == "generation"
            self._write_note(frame)

    def _write_note(self, frame: pd.DataFrame) -> None:
        finished = self.clade.phenotypes
        n_finished = int(finished["status"].isin(FINISHED_STATUSES).sum()) if len(finished) else 0
        if not len(frame):
            text = "no finished model yet: points appear as models finish"
        else:
            left_out = n_finished - len(frame)
            text = f"{len(frame)} models; front: {len(self.front)}"
            if left_out:
                text += f"; {left_out} without a {html.escape(self.metric)} (failed) not drawn"
            if self.colour_by == "status":
                seen = sorted(set(frame["status"]))
                text += " &middot; " + " ".join(
                    f"<span style='color:{STATUS_COLOURS.get(s, '#000')}'>&#9679; {s}</span>"
                    for s in seen
                )
        self.note.value = f"<span style='color:#666'>{text}</span>"

    # ------------------------------------------------------------------ selection
    def _on_point_selected(self, change) -> None:
        rows: Sequence[int] | None = change["new"]
        if rows is None or len(rows) == 0:
            return
        index = int(rows[0])
        if 0 <= index < len(self.ids) and self.ids[index] != self.selection.model_id:
            self.selection.select(self.ids[index])

    def _on_selection(self, change) -> None:
        model_id = change["new"]
        with self._lock:
            rows = [self.ids.index(model_id)] if model_id in self.ids else None
            if list(self.scatter.selected if self.scatter.selected is not None else []) != (
                rows or []
            ):
                self.scatter.selected = rows
