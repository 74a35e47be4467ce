"""dlgene_widgets: Jupyter panels for dlgene clades, and an IPython extension.

Panels observe the clade's traitlets (never poll) and act through the core's API; the core
never imports this package. ``%load_ext dlgene_widgets`` registers the magics.
"""

from .analysis import Analysis
from .config_editor import ConfigEditor
from .dashboard import CladeDashboard, JobError
from .extension import dashboard_for, load_ipython_extension, unload_ipython_extension
from .generation_views import GenerationViews
from .growth_plot import GrowthPlot
from .overview import OverviewScatter
from .parallel_coords import GeneImportance, ParallelCoordinates
from .parent_picker import ParentPicker
from .population_grid import PopulationGrid
from .population_table import PopulationTable
from .selection import ModelSelection, model_colour

__all__ = [
    "Analysis",
    "CladeDashboard",
    "ConfigEditor",
    "GeneImportance",
    "GenerationViews",
    "GrowthPlot",
    "JobError",
    "ModelSelection",
    "OverviewScatter",
    "ParallelCoordinates",
    "ParentPicker",
    "PopulationGrid",
    "PopulationTable",
    "dashboard_for",
    "load_ipython_extension",
    "model_colour",
    "unload_ipython_extension",
]
