"""dlgene_core: evolve Keras model architectures with a genetic algorithm (headless).

Importing this package does not import TensorFlow; training steps import it when they run.
"""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter out of CLIs

from .clade import CLADE_CLASSES, GACNN1, GAFC1, GARNN1, Clade
from .config import CladeConfig
from .data import Dataset, DataSpec, load_dataset
from .errors import CladeStateError, ConfigError, DataError, GenotypeError, UnsafeModelError

__version__ = "0.1.0"


def open_clade(folder):
    """Re-open any experiment folder as the clade kind it holds."""
    return Clade.open(folder)


__all__ = [
    "CLADE_CLASSES",
    "GACNN1",
    "GAFC1",
    "GARNN1",
    "Clade",
    "CladeConfig",
    "CladeStateError",
    "ConfigError",
    "DataError",
    "DataSpec",
    "Dataset",
    "GenotypeError",
    "UnsafeModelError",
    "load_dataset",
    "open_clade",
]
