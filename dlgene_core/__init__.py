"""dlgene_core: evolve Keras model architectures with a genetic algorithm (headless).

Importing this package does not import TensorFlow; training steps import it when they run.
"""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter out of CLIs

from .clade import CLADE_CLASSES, GAFC1, Clade
from .config import CladeConfig
from .data import Dataset, DataSpec, load_dataset
from .errors import CladeStateError, ConfigError, DataError, GenotypeError

__version__ = "0.1.0"


def open_clade(folder):
    """Re-open any experiment folder as the clade kind it holds."""
    return Clade.open(folder)


def __getattr__(name):  # GACNN1 / GARNN1 live in their family modules
    from . import clade as _clade
    from .families import family_names

    family_names()
    if name in _clade.CLADE_CLASSES:
        return _clade.CLADE_CLASSES[name]
    raise AttributeError(name)


__all__ = [
    "CLADE_CLASSES",
    "GAFC1",
    "Clade",
    "CladeConfig",
    "CladeStateError",
    "ConfigError",
    "DataError",
    "DataSpec",
    "Dataset",
    "GenotypeError",
    "load_dataset",
    "open_clade",
]
