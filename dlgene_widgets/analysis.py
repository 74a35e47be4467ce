"""Analysis: the overview scatter, the parallel coordinates and the gene importance in tabs.

All three read every finished model of the run and share the dashboard's
``ModelSelection``: a click on a point selects the model everywhere; a brush on the
parallel coordinates sets ``filtered_ids``, which the grid follows.
"""

from __future__ import annotations

import ipywidgets as widgets

from dlgene_core import Clade

from ._panel import Panel
from .overview import OverviewScatter
from .parallel_coords import GeneImportance, ParallelCoordinates
from .selection import ModelSelection

TITLES = ("all models", "parallel coordinates", "gene importance")


class Analysis(Panel):
    """Tabs: all models at a glance, genes against the metric, gene importance."""

    def __init__(
        self, clade: Clade, selection: ModelSelection | None = None, max_rate_hz: float = 1.0
    ):
        super().__init__()
        self.selection = selection if selection is not None else ModelSelection()
        self.overview = OverviewScatter(clade, self.selection, max_rate_hz=max_rate_hz)
        self.parallel = ParallelCoordinates(clade, self.selection, max_rate_hz=max_rate_hz)
        # the forest is fitted only while its tab is shown (it costs a core for a second)
        self.importance = GeneImportance(clade, max_rate_hz=min(max_rate_hz, 0.5), active=False)
        # Only the tab on screen holds its panel: bqplot lays out a figure in a hidden tab
        # at width 0 (negative <rect> sizes in the console) and keeps its DOM; a panel
        # mounted when its tab opens is drawn at its real size.
        self.holders = [widgets.VBox() for _ in TITLES]
        self.holders[0].children = (self.overview,)
        self.tabs = widgets.Tab(children=self.holders, titles=TITLES).add_class(
            "dlgene-analysis-tabs"
        )
        self.children = [self.tabs]
        self.add_class("dlgene-analysis")
        self.parallel.active = False  # the first tab is on screen
        self.tabs.observe(self._on_tab, names="selected_index")
        for panel in (self.overview, self.parallel, self.importance):
            self.on_close(panel.close)

    def _on_tab(self, change) -> None:
        """Only the tab on screen holds its panel and follows the run; the others catch up
        when shown."""
        panels = (self.overview, self.parallel, self.importance)
        for index, (holder, panel) in enumerate(zip(self.holders, panels, strict=True)):
            shown = change["new"] == index
            holder.children = (panel,) if shown else ()
            panel.active = shown

    def throttles(self) -> list:
        return [self.overview._throttle, self.parallel._throttle, self.importance._throttle]
