"""One selection and one colour per model, shared by every panel of a dashboard.

Panels link to a ``ModelSelection`` instead of to each other (bqplot's split of state and
view): a click in the overview scatter, a row of the grid or a line of the compare plot sets
``model_id``; every panel observes it. Brushing (parallel coordinates, grid filters) sets
``filtered_ids``. Colours come from ``model_colour`` so one model has one colour everywhere.
"""

from __future__ import annotations

import zlib

from traitlets import HasTraits, List, Unicode

# ColorBrewer/Tableau-like 20 colours: distinct enough for the models a person compares
MODEL_PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#843c39", "#7b4173",
    "#3182bd", "#e6550d", "#31a354", "#756bb1",
)  # fmt: skip


def model_colour(model_id: str) -> str:
    """The colour of ``model_id`` in every figure: a stable hash of the id, not the order in
    which a panel happened to see the model (which differed between panels)."""
    return MODEL_PALETTE[zlib.crc32(str(model_id).encode()) % len(MODEL_PALETTE)]


class ModelSelection(HasTraits):
    """The model a person is looking at and the models a brush or filter kept."""

    model_id = Unicode("", help="the selected model ('' for none)")
    filtered_ids = List(Unicode(), help="models kept by brushing or filters (empty: all)")

    def select(self, model_id: str) -> None:
        """Select ``model_id`` (a click on the selected model keeps it selected)."""
        self.model_id = str(model_id)

    def clear(self) -> None:
        self.model_id = ""
        self.filtered_ids = []
