"""The dashboard's panels follow one ``ModelSelection``: small observers kept outside the
panels, so each panel stays usable on its own.

A selected model (a click in the scatter or the grid) is shown in the confusion matrix and
the lineage (GenerationViews), joins the compare plot (GrowthPlot) and is outlined in the
parent picker; a model picked in GenerationViews' own dropdown becomes the selection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .selection import ModelSelection

COMPARE_AT_MOST = 5  # models on the compare plot after a selection joins it
SELECTED_CLASS = "dlgene-selected-model"


def selection_style() -> widgets.HTML:
    """The CSS that outlines the selected model where a panel marks it with a class."""
    return widgets.HTML(
        f"<style>.{SELECTED_CLASS} {{outline: 2px solid #1f77b4; background: #eaf2fb;}}</style>"
    )


def link_selection(
    selection: ModelSelection, views: Any = None, growth: Any = None, parents: Any = None
) -> Callable[[], None]:
    """Make the panels follow ``selection.model_id``; returns the function that unlinks."""
    undo: list[Callable[[], None]] = []

    def on_model(change) -> None:
        model_id = change["new"]
        if not model_id:
            return
        shows = views is not None and model_id in views.model_picker.options
        if shows and views.shown_model != model_id:
            views.follow_best = False  # a pick: keep it while results come in
            views.shown_model = model_id
        compares = growth is not None and model_id in growth.compare_picker.options
        if compares and model_id not in growth.compare_ids:
            others = [m for m in growth.compare_ids if m != model_id]
            growth.compare_ids = [model_id, *others][:COMPARE_AT_MOST]
        if parents is not None:
            outline_pick(parents, model_id)

    selection.observe(on_model, names="model_id")
    undo.append(lambda: selection.unobserve(on_model, names="model_id"))
    if views is not None:

        def on_view_model(change) -> None:
            if views.picked_by_hand and change["new"] and change["new"] != selection.model_id:
                selection.select(change["new"])

        views.observe(on_view_model, names="shown_model")
        undo.append(lambda: views.unobserve(on_view_model, names="shown_model"))
    if parents is not None:

        def on_ranking(_change) -> None:
            outline_pick(parents, selection.model_id)

        parents.observe(on_ranking, names="ranking")
        undo.append(lambda: parents.unobserve(on_ranking, names="ranking"))

    def unlink() -> None:
        for step in reversed(undo):
            step()
        undo.clear()

    return unlink


def outline_pick(parents: Any, model_id: str) -> None:
    """Outline the picker's checkbox of ``model_id`` (and only that one)."""
    for mid, box in parents.checkboxes.items():
        if mid == model_id:
            box.add_class(SELECTED_CLASS)
        elif SELECTED_CLASS in box._dom_classes:
            box.remove_class(SELECTED_CLASS)
