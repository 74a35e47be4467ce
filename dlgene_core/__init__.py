"""dlgene_core: evolve Keras model architectures with a genetic algorithm (headless).

Importing this package does not import TensorFlow; training steps import it when they run.
Every registered family's kind is a clade class here (``from dlgene_core import GAFC1``):
the names come from the family registry, not from a list in this file.
"""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter out of CLIs

from .clade import Clade, clade_class, clade_classes
from .config import CladeConfig
from .data import Dataset, DataSpec, load_dataset
from .errors import CladeStateError, ConfigError, DataError, GenotypeError, UnsafeModelError
from .families import family_names, register_family

__version__ = "0.1.0"


def open_clade(folder):
    """Re-open any experiment folder as the clade kind it holds."""
    return Clade.open(folder)


def __getattr__(name: str):
    """Clade classes by kind (GAFC1, GACNN1, GARNN1 and any family registered later)."""
    if name in family_names():
        return clade_class(name)
    if name == "CLADE_CLASSES":  # the mapping, as earlier versions exported it
        return clade_classes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *family_names()])


__all__ = [
    "Clade",
    "CladeConfig",
    "CladeStateError",
    "ConfigError",
    "DataError",
    "DataSpec",
    "Dataset",
    "GenotypeError",
    "UnsafeModelError",
    "clade_class",
    "clade_classes",
    "family_names",
    "load_dataset",
    "open_clade",
    "register_family",
    *family_names(),
]
