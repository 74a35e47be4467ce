"""PopulationTable: a generation's genotypes joined with phenotypes, as one HTML table.

One HTML widget (not one widget per cell) keeps 200+ rows cheap; clade changes arrive on
the training thread and only request a re-render, which a throttle runs a few times a
second at most.
"""

from __future__ import annotations

import html
import math
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from traitlets import Bool, Int, List, Unicode, observe

from dlgene_core import Clade

from ._panel import Panel
from ._throttle import Throttle, when_idle

CURRENT = -1  # generation value meaning "follow the clade's current generation"
FINAL = -2  # generation value meaning "the final (refit) models"
STATUS_COLOURS = {
    "training": "#1f77b4",
    "ok": "#2ca02c",
    "timed_out": "#ff7f0e",
    "diverged": "#d62728",
    "failed": "#d62728",
    "pruned": "#9467bd",  # stopped early by the pruner: trained, ranked below finished
    "duplicate": "#8c564b",  # a repeat of a trained genotype: its result, not trained
    "pending": "#7f7f7f",
}
LEAD_COLUMNS = ("model_id", "status", "parent", "val_accuracy", "test_accuracy", "val_loss")


def population_frame(clade: Clade, generation: int | None = None) -> pd.DataFrame:
    """Genotypes of ``generation`` (default: current) joined with their phenotypes, with a
    ``status`` (training, ok, diverged, timed_out, failed, pruned, duplicate, pending) and a
    ``parent`` flag."""
    if generation == FINAL:
        return final_frame(clade)
    current = clade.generation
    generation = current if generation is None or generation == CURRENT else int(generation)
    if generation == current:
        genotypes = clade.genotypes
    else:
        table = clade.all_genotypes
        genotypes = table[table["generation"] == generation] if len(table) else table
    if genotypes.empty:
        return pd.DataFrame(columns=list(LEAD_COLUMNS))
    phenotypes = clade.generation_phenotypes(generation)
    frame = genotypes.reset_index(drop=True)
    frame = _joined(clade, frame, phenotypes)
    frame["parent"] = frame["model_id"].isin(parent_ids(clade, generation))
    lead = [c for c in LEAD_COLUMNS if c in frame.columns]
    return frame[lead + [c for c in frame.columns if c not in lead]]


def _joined(clade: Clade, frame: pd.DataFrame, phenotypes: pd.DataFrame) -> pd.DataFrame:
    """Genotype rows with their phenotypes and a status: training, pending or the result's."""
    if len(phenotypes):
        extra = phenotypes.drop(
            columns=[c for c in phenotypes.columns if c in frame.columns and c != "model_id"]
        )
        frame = frame.merge(extra, on="model_id", how="left")
    else:
        frame = frame.assign(status=np.nan)
    running = set(clade.running_models)
    status = frame["status"].astype(object).where(frame["status"].notna(), "pending")
    frame["status"] = [
        "training" if mid in running else s
        for mid, s in zip(frame["model_id"], status, strict=True)
    ]
    return frame


def run_frame(clade: Clade) -> pd.DataFrame:
    """``population_frame`` of every generation at once: one merge and one read of the
    stored selections, not one of each per generation (the grid rebuilds it as models
    finish, so its cost is paid many times a run)."""
    genotypes = clade.all_genotypes
    if genotypes.empty:
        return pd.DataFrame(columns=list(LEAD_COLUMNS))
    frame = genotypes.reset_index(drop=True)
    phenotypes = clade.phenotypes
    frame = _joined(clade, frame, phenotypes)
    chosen = clade.selections()
    pairs = set()
    if len(chosen):
        older = chosen[chosen["generation"] != clade.generation]
        pairs = set(zip(older["generation"].astype(int), older["model_id"], strict=True))
    pairs |= {(clade.generation, m) for m in parent_ids(clade, clade.generation)}
    frame["parent"] = [
        (int(g), m) in pairs for g, m in zip(frame["generation"], frame["model_id"], strict=True)
    ]
    lead = [c for c in LEAD_COLUMNS if c in frame.columns]
    return frame[lead + [c for c in frame.columns if c not in lead]]


def final_frame(clade: Clade) -> pd.DataFrame:
    """The refit (final) models with their source's genes; never parents."""
    table = clade.summary()
    table = table[table["role"] == "final"].drop(columns=["rank", "role"]).reset_index(drop=True)
    if table.empty:
        return pd.DataFrame(columns=list(LEAD_COLUMNS))
    table["parent"] = False
    lead = [c for c in LEAD_COLUMNS if c in table.columns]
    return table[lead + [c for c in table.columns if c not in lead]]


def parent_ids(clade: Clade, generation: int) -> set[str]:
    """The selected parents of a generation (the stored selection for older ones)."""
    if generation == clade.generation:
        parents = clade.parents
    else:
        parents = clade.selections()
        if len(parents):
            parents = parents[parents["generation"] == generation]
    return set(parents["model_id"]) if len(parents) else set()


def sort_frame(frame: pd.DataFrame, column: str, ascending: bool) -> pd.DataFrame:
    """Sort by any column; list-valued columns sort by their text, missing values last."""
    if column not in frame.columns or frame.empty:
        return frame
    values = frame[column]
    if values.dtype == object:
        key = values.map(lambda v: "" if _missing(v) else _cell_text(v))
        return frame.iloc[
            np.argsort(key.to_numpy(dtype=str), kind="stable")[:: 1 if ascending else -1]
        ]
    return frame.sort_values(column, ascending=ascending, na_position="last", kind="stable")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell_text(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    if isinstance(value, list | tuple | np.ndarray):
        return "[" + ", ".join(_cell_text(v) for v in value) + "]"
    return str(value)


def render_html(frame: pd.DataFrame, selected: set[str]) -> str:
    """The table as HTML: one ``<tr data-model-id=...>`` per model."""
    columns = list(frame.columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = dict(zip(columns, record, strict=True))
        mid = str(cells["model_id"])
        classes = ["dlgene-row", f"dlgene-status-{cells.get('status', 'pending')}"]
        style = ""
        if cells.get("parent"):
            classes.append("dlgene-parent")
            style = "background:#fff3c4;font-weight:bold;"
        if mid in selected:
            classes.append("dlgene-selected")
            style += "outline:2px solid #1f77b4;"
        tds = []
        for column, value in cells.items():
            text = html.escape(_cell_text(value))
            if column == "status":
                colour = STATUS_COLOURS.get(str(value), "#000")
                text = f"<span style='color:{colour}'>{text}</span>"
            elif column == "parent":
                text = "&#9733;" if value else ""
            tds.append(f"<td>{text}</td>")
        rows.append(
            f"<tr class='{' '.join(classes)}' data-model-id='{html.escape(mid)}' "
            f"style='{style}'>{''.join(tds)}</tr>"
        )
    return (
        "<div style='max-height:420px;overflow:auto'>"
        "<table class='dlgene-table' style='border-collapse:collapse;font-size:12px'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


class PopulationTable(Panel):
    """Sortable, selectable table of one generation; parents starred, status coloured."""

    generation = Int(CURRENT, help="generation shown; -1 follows the clade's current one")
    sort_by = Unicode("model_id", help="column the rows are sorted by")
    ascending = Bool(True)
    selected_ids = List(Unicode(), help="model ids selected in the table")
    row_ids = List(Unicode(), help="model ids in the order shown")

    def __init__(self, clade: Clade, max_rate_hz: float = 4.0):
        super().__init__()
        self.clade = clade
        self.frame = pd.DataFrame()
        self._lock = threading.RLock()
        self._refreshing = False
        self.generation_picker = widgets.Dropdown(
            description="generation", options=[("current", CURRENT)]
        )
        self.sort_picker = widgets.Dropdown(description="sort by", options=["model_id"])
        self.order_toggle = widgets.ToggleButton(
            value=True, description="ascending", icon="sort-amount-asc"
        )
        self.row_picker = widgets.SelectMultiple(description="select", rows=5)
        self.summary = widgets.HTML("")
        self.table = widgets.HTML("").add_class("dlgene-population-table")
        widgets.link((self.sort_picker, "value"), (self, "sort_by"))
        widgets.link((self.order_toggle, "value"), (self, "ascending"))
        widgets.link((self.generation_picker, "value"), (self, "generation"))
        self.row_picker.observe(self._on_row_pick, names="value")
        self.children = [
            widgets.HBox([self.generation_picker, self.sort_picker, self.order_toggle]),
            widgets.HBox([self.row_picker, self.summary]),
            self.table,
        ]
        self.add_class("dlgene-population-panel")
        self._throttle = Throttle(
            self.refresh, max_rate_hz, name="population-table", sync_on_main_thread=when_idle(clade)
        )
        # message: set by every step, refit included (its final models join the picker)
        self._names = [
            "genotypes",
            "phenotypes",
            "parents",
            "running_models",
            "generation",
            "message",
        ]
        clade.observe(self._on_clade_change, names=self._names)
        self.on_close(lambda: clade.unobserve(self._on_clade_change, names=self._names))
        self.on_close(self._throttle.close)
        self.refresh()

    def _on_clade_change(self, _change) -> None:
        self._throttle.request()  # runs on the training thread: only schedule

    @observe("sort_by", "ascending", "generation", "selected_ids")
    def _on_view_change(self, _change) -> None:
        if hasattr(self, "_throttle"):
            self.refresh()

    def _on_row_pick(self, change) -> None:
        self.selected_ids = list(change["new"])

    @observe("selected_ids")
    def _selected_to_picker(self, change) -> None:
        picker = getattr(self, "row_picker", None)
        if picker is not None and tuple(change["new"]) != picker.value:
            picker.value = tuple(m for m in change["new"] if m in picker.options)

    def refresh(self) -> None:
        """Rebuild the frame and the HTML from the clade (throttled on training events)."""
        with self._lock:
            if self._refreshing:  # option changes below echo back here on this thread
                return
            self._refreshing = True
            try:
                self._refresh()
            finally:
                self._refreshing = False

    def _refresh(self) -> None:
        clade = self.clade
        generations = (
            sorted(set(clade.all_genotypes["generation"])) if len(clade.all_genotypes) else []
        )
        options = [("current", CURRENT)] + [(str(g), int(g)) for g in generations]
        if not clade.final_models().empty:
            options.append(("final", FINAL))
        if list(self.generation_picker.options) != options:
            self.generation_picker.options = options
            self.generation_picker.value = (
                self.generation if self.generation in dict(options).values() else CURRENT
            )
        frame = population_frame(clade, None if self.generation == CURRENT else self.generation)
        if list(self.sort_picker.options) != list(frame.columns):
            sort_by = self.sort_by
            self.sort_picker.options = list(frame.columns)
            self.sort_picker.value = sort_by if sort_by in frame.columns else "model_id"
        frame = sort_frame(frame, self.sort_by, self.ascending)
        self.frame = frame
        ids = [str(m) for m in frame["model_id"]]
        self.row_ids = ids
        if list(self.row_picker.options) != ids:
            keep = tuple(m for m in self.row_picker.value if m in ids)
            self.row_picker.options = ids
            self.row_picker.value = keep
        counts = frame["status"].value_counts().to_dict() if len(frame) else {}
        self.summary.value = f"{len(frame)} models; " + ", ".join(
            f"{k}: {v}" for k, v in sorted(counts.items())
        )
        self.table.value = render_html(frame, set(self.selected_ids))
