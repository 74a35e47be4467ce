"""PopulationGrid: every model of the run in an ipydatagrid (sort, filter, chooser, export).

ipydatagrid (Bloomberg's maintained grid on Lumino's canvas DataGrid) draws only the rows
in view, so 1,000 rows cost what a screenful does, and its header menus sort and filter any
column in the browser. The model id is the grid's index, drawn as the row header, which
stays pinned while the columns scroll (ipydatagrid has no frozen data columns; its row
header is the frozen one).

Columns are known before any model finishes: gene columns from the family
(``operators.gene_columns``), phenotype columns from ``records.PHENOTYPE_COLUMNS``, so the
layout never jumps. A chooser (TagsInput) picks which are shown; the default set is
compact. Rows open sorted best first on the first objective. A brush elsewhere
(``selection.filtered_ids``) keeps only its models; a click on a row selects that model in
every panel (``selection.model_id``). "export CSV" writes the rows shown (the grid's own
sorts and filters applied, every column) to ``<experiment folder>/exports/`` and offers the
same file as a download link.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from ipydatagrid import DataGrid, TextRenderer, VegaExpr
from traitlets import Bool, Int, List, Unicode, observe

from dlgene_core import Clade
from dlgene_core.config import objectives_of
from dlgene_core.operators import gene_columns
from dlgene_core.records import PHENOTYPE_COLUMNS

from ._panel import Panel
from .population_table import CURRENT, FINAL, STATUS_COLOURS
from .selection import ModelSelection

ALL = -3  # generation value meaning "every generation of the run"
METRIC_COLUMNS = ("val_accuracy", "test_accuracy", "val_loss", "n_params", "train_time")
BOOKKEEPING = ("parents", "mutations")
SKIP = ("model_id", "kind")  # the index, and the same for every row
ROW_PX, HEADER_PX, SCROLLBAR_PX = 22, 20, 18  # HEADER_PX: ipydatagrid's default header
MIN_GRID_PX, MAX_GRID_PX = 120, 480  # a few rows fit without a void; many scroll


def grid_columns(clade: Clade) -> list[str]:
    """Every column the grid can show, in order (stable from the first render)."""
    objectives = [c for c, _ in objectives_of(clade.config)]
    lead = ["status", "parent", "generation", *objectives, *METRIC_COLUMNS]
    genes = gene_columns(clade.family)
    rest = [c for c in PHENOTYPE_COLUMNS if c not in SKIP]
    return list(dict.fromkeys([*lead, *genes, *rest, *BOOKKEEPING]))


def default_columns(clade: Clade) -> list[str]:
    """The compact set: status, parent, generation, objectives, metrics, the main genes."""
    objectives = [c for c, _ in objectives_of(clade.config)]
    segment = clade.family.segments[0] if clade.family.segments else None
    genes = ["optimizer"]
    if segment is not None:
        genes += [f"nb_{segment.name}", f"{segment.name}_{segment.fields[0]}"]
    wanted = ["status", "parent", "generation", *objectives, *METRIC_COLUMNS, *genes]
    known = grid_columns(clade)
    return [c for c in dict.fromkeys(wanted) if c in known]


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return " ".join(_text(v) for v in value)
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def grid_frame(clade: Clade, generation: int = ALL) -> pd.DataFrame:
    """Every model of ``generation`` (ALL: the whole run; CURRENT; FINAL: refit models),
    indexed by model id, with every column of ``grid_columns`` (missing ones empty), best
    first on the first objective (models without a value last)."""
    from .population_table import population_frame, run_frame

    columns = grid_columns(clade)
    if generation == ALL:
        frame = run_frame(clade)
    else:
        frame = population_frame(clade, None if generation == CURRENT else generation)
    frame = frame.reindex(columns=["model_id", *columns])
    for column in frame.columns:
        values = frame[column]
        if column == "parent":
            frame[column] = ["parent" if v is True or v == 1 else "" for v in values]
        elif column == "status":
            frame[column] = [_text(v) or "pending" for v in values]
        elif values.dtype != object and column not in BOOKKEEPING:
            continue
        elif column in BOOKKEEPING or any(isinstance(v, list | tuple | np.ndarray) for v in values):
            frame[column] = [_text(v) for v in values]
        else:
            numeric = pd.to_numeric(values, errors="coerce")
            present = values.notna() & (values.astype(str) != "")
            if present.any() and numeric[present].notna().all():
                frame[column] = numeric.astype(float)
            else:
                frame[column] = [_text(v) for v in values]
    metric, direction = objectives_of(clade.config)[0]
    frame[metric] = frame[metric].astype(float)
    frame = frame.sort_values(
        [metric, "model_id"], ascending=[direction == "min", True], na_position="last"
    )
    return frame.set_index("model_id")


def grid_height(n_rows: int) -> str:
    """The grid's CSS height: its rows fit (no empty band under 4 models), up to a limit
    past which it scrolls (1,000 rows do not push the panels below off the page)."""
    wanted = HEADER_PX + ROW_PX * n_rows + SCROLLBAR_PX
    return f"{min(MAX_GRID_PX, max(MIN_GRID_PX, wanted))}px"


def column_widths(columns: list[str]) -> dict[str, int]:
    """Wide enough for each header and its filter icon (headers were cut at 64 px)."""
    return {c: max(64, 7 * len(c) + 30) for c in columns}


def _renderers(frame: pd.DataFrame) -> dict[str, TextRenderer]:
    """Status coloured, parents marked, numbers formatted."""
    colours = " : ".join(
        f"cell.value === '{status}' ? '{colour}'" for status, colour in STATUS_COLOURS.items()
    )
    renderers: dict[str, TextRenderer] = {
        "status": TextRenderer(text_color=VegaExpr(f"{colours} : '#000000'"), font="bold 12px"),
        "parent": TextRenderer(
            background_color=VegaExpr("cell.value === 'parent' ? '#fff3c4' : 'white'"),
            font="bold 12px",
        ),
    }
    for column in frame.columns:
        if column in renderers or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        fmt = ",.0f" if column in ("n_params", "generation", "nb_layers") else ".4~g"
        renderers[column] = TextRenderer(format=fmt, horizontal_alignment="right")
    return renderers


def _numeric(frame: pd.DataFrame) -> set[str]:
    return {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}


class PopulationGrid(Panel):
    """All models in a data grid: sort, filter, chosen columns, CSV export, one selection."""

    generation = Int(ALL, help="generation shown: -3 all, -1 current, -2 final, or a number")
    visible_columns = List(Unicode(), help="columns shown (model id is always the row header)")
    row_ids = List(Unicode(), help="model ids in the order the kernel sent them (best first)")
    selected_ids = List(Unicode(), help="the selected model (PopulationTable's name for it)")
    sort_by = Unicode("", help="column the rows open sorted by ('' = the first objective)")
    ascending = Bool(False)

    def __init__(
        self, clade: Clade, selection: ModelSelection | None = None, max_rate_hz: float = 2.0
    ):
        super().__init__()
        self.clade = clade
        self.selection = selection if selection is not None else ModelSelection()
        self._lock = threading.RLock()
        self.columns = grid_columns(clade)
        self.visible_columns = default_columns(clade)
        metric, direction = objectives_of(clade.config)[0]
        self.sort_by, self.ascending = metric, direction == "min"
        self.full_frame = grid_frame(clade)
        self.frame = self._shown(self.full_frame)
        self.generation_picker = widgets.Dropdown(
            description="generation", options=[("all", ALL)], value=ALL
        ).add_class("dlgene-grid-generation")
        self.column_chooser = widgets.TagsInput(
            value=list(self.visible_columns),
            allowed_tags=list(self.columns),
            allow_duplicates=False,
            layout=widgets.Layout(width="100%"),
        ).add_class("dlgene-grid-columns")
        self.export_button = widgets.Button(description="export CSV", icon="download").add_class(
            "dlgene-grid-export"
        )
        self.export_link = widgets.HTML("").add_class("dlgene-grid-export-link")
        self.summary = widgets.HTML("").add_class("dlgene-grid-summary")
        self.grid = DataGrid(
            self.frame,
            selection_mode="row",
            base_row_size=ROW_PX,
            base_column_size=96,
            base_row_header_size=80,
            column_widths=column_widths(self.columns),
            renderers=_renderers(self.frame),
            horizontal_stripes=True,
            layout=widgets.Layout(height=grid_height(len(self.frame)), width="100%"),
        ).add_class("dlgene-grid")
        self.grid.transform([self._sort_transform()])
        self.grid.on_cell_click(self._on_cell_click)
        widgets.link((self.generation_picker, "value"), (self, "generation"))
        widgets.link((self.column_chooser, "value"), (self, "visible_columns"))
        self.export_button.on_click(lambda _b: self.export_csv())
        self.children = [
            widgets.HBox([self.generation_picker, self.summary, self.export_button]),
            self.export_link,
            self.grid,
            widgets.HTML("<small style='color:#666'>columns (type to add one):</small>"),
            self.column_chooser,
        ]
        self.add_class("dlgene-grid-panel")
        names = ["genotypes", "phenotypes", "parents", "running_models", "generation"]
        self.follow(clade, names, max_rate_hz, "population-grid")
        self.selection.observe(self._on_filter, names="filtered_ids")
        self.selection.observe(self._on_selection, names="model_id")
        self.on_close(lambda: self.selection.unobserve(self._on_filter, names="filtered_ids"))
        self.on_close(lambda: self.selection.unobserve(self._on_selection, names="model_id"))
        self.refresh()

    # ------------------------------------------------------------------ state -> grid
    def _on_filter(self, _change) -> None:
        self._show()

    @observe("generation")
    def _on_generation(self, _change) -> None:
        if hasattr(self, "_throttle"):
            self.refresh()

    @observe("visible_columns")
    def _on_columns(self, change) -> None:
        unknown = [c for c in change["new"] if c not in self.columns]
        if unknown:
            raise ValueError(f"visible_columns: {unknown} unknown; allowed: {self.columns}")
        if hasattr(self, "_throttle"):
            self._show()

    def _sort_transform(self) -> dict[str, Any]:
        return {"type": "sort", "column": self.sort_by, "desc": not self.ascending}

    def refresh(self) -> None:
        """Rebuild the frame from the clade (throttled on training events)."""
        with self._lock:
            self._update_generations()
            self.full_frame = grid_frame(self.clade, self.generation)
            self._show()

    def _update_generations(self) -> None:
        table = self.clade.all_genotypes
        generations = sorted({int(g) for g in table["generation"]}) if len(table) else []
        options = [("all", ALL), ("current", CURRENT)] + [(str(g), g) for g in generations]
        if self.clade.has_final_models():
            options.append(("final", FINAL))
        if list(self.generation_picker.options) != options:
            keep = self.generation if self.generation in dict(options).values() else ALL
            self.generation_picker.options = options
            self.generation_picker.value = keep

    def _shown(self, frame: pd.DataFrame) -> pd.DataFrame:
        keep = self.selection.filtered_ids
        if keep:
            frame = frame[frame.index.isin(set(keep))]
        columns = [c for c in self.visible_columns if c in frame.columns]
        if self.sort_by not in columns and self.sort_by in frame.columns:
            columns = [*columns, self.sort_by]  # the sort column stays shown
        return frame[columns]

    def _show(self) -> None:
        with self._lock:
            frame = self._shown(self.full_frame)
            same_columns = list(frame.columns) == list(self.frame.columns)
            if not (same_columns and frame.equals(self.frame)) or self.grid.data.empty:
                # renderers follow the columns' types too: before any model the frame is all
                # NaN (numeric), and a number format would draw the genes' text as NaN
                if not same_columns or _numeric(frame) != _numeric(self.frame):
                    self.grid.renderers = _renderers(frame)
                self.grid.data = frame
                self.frame = frame
                self.grid.layout.height = grid_height(len(frame))
            self.row_ids = [str(m) for m in frame.index]
            counts = self.full_frame["status"].value_counts().to_dict()
            brushed = (
                f" &middot; {len(frame)} kept by the brush" if self.selection.filtered_ids else ""
            )
            self.summary.value = (
                f"<span style='color:#666'>{len(self.full_frame)} models{brushed}; "
                + ", ".join(f"{html.escape(str(k))}: {v}" for k, v in sorted(counts.items()))
                + "</span>"
            )

    # ------------------------------------------------------------------ selection
    def _on_cell_click(self, cell: dict[str, Any]) -> None:
        row = cell.get("primary_key_row")
        if cell.get("region") not in ("body", "row-header", None):
            return  # a header click sorts or selects a column, not a model
        if row is None or not 0 <= int(row) < len(self.frame):
            return
        self.select_row(int(row))

    def select_row(self, row: int) -> None:
        """Select the model of data row ``row`` (what a click on it does)."""
        model_id = str(self.frame.index[row])
        self.selection.select(model_id)

    def _on_selection(self, change) -> None:
        model_id = change["new"]
        self.selected_ids = [model_id] if model_id else []
        ids = list(self.frame.index)
        if model_id in ids:
            row = self._view_row(ids.index(model_id))
            last = len(self.frame.columns) - 1
            self.grid.selections = [{"r1": row, "c1": 0, "r2": row, "c2": last}]
        else:
            self.grid.selections = []

    def _view_row(self, data_row: int) -> int:
        """Where data row ``data_row`` is drawn: the grid's front end reports its sorted
        order in ``_visible_rows`` (empty until it has drawn)."""
        visible = list(self.grid._visible_rows)
        return visible.index(data_row) if data_row in visible else data_row

    # ------------------------------------------------------------------ export
    def visible_ids(self) -> list[str]:
        """Model ids in the order the browser shows them (its sorts and filters applied)."""
        visible = list(self.grid._visible_rows)
        ids = [str(m) for m in self.frame.index]
        return [ids[i] for i in visible if i < len(ids)] if visible else ids

    def export_csv(self, path: str | Path | None = None) -> Path:
        """Write the rows shown (every column) to a CSV; default
        ``<experiment folder>/exports/models-<time>.csv``. Shows a download link too."""
        ids = self.visible_ids()
        table = self.full_frame.loc[[m for m in ids if m in self.full_frame.index]]
        if path is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = self.clade.store.path / "exports" / f"models-{stamp}.csv"
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = table.to_csv(index_label="model_id")
        tmp = path.with_suffix(".csv.tmp")
        tmp.write_text(text)
        tmp.replace(path)
        payload = base64.b64encode(text.encode()).decode()
        self.export_link.value = (
            f"<span style='color:#666'>wrote {len(table)} rows to "
            f"<code>{html.escape(str(path))}</code></span> &middot; "
            f"<a download='{html.escape(path.name)}' href='data:text/csv;base64,{payload}'>"
            "download</a>"
        )
        return path
