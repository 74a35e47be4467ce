"""A small digits search shared by the export, sklearn and report tests (seconds, not minutes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from dlgene_core import Clade, CladeConfig

HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None


def tiny_config(**changes) -> CladeConfig:
    """Two small MLPs that learn digits in 3 epochs (so refit has something to improve)."""
    base = {
        "population_size": 2,
        "generations": 1,
        "epochs": (3, 3),
        "nb_layers": (1, 1),
        "nb_units": (32, 64),
        "batch_size": (16, 32),
        "optimizers": ["adam"],
        "lr_bins": [(0.003, 0.01)],
        "lr_ranges": {},  # the bins above decide the rate
        "regularizer_chance": 0.0,
        "max_train_time": 60.0,
        "seed": 0,
        # every model trains its 3 epochs: refit then trains the same epochs on more data
        "early_stopping_patience": 0,
        "pruner": "none",
    }
    return CladeConfig().updated(**{**base, **changes})


def grow_tiny(folder: Path, **changes) -> Clade:
    clade = Clade(tiny_config(**changes), data="digits", folder=folder)
    clade.load_data()
    clade.evolve()
    return clade
