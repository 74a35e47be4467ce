"""The family registry: the one list of clade kinds.

The config's ``kind`` validator, the clade classes (``clade_class``), the package's
exports, the CLI's help and the config panel all ask this registry. A new family is one
module that calls ``register_family(MyFamily())``; the built-in ones are imported below.
A package can also declare an entry point in the group ``dlgene.families`` (its module
registers its families when loaded), so that worker processes know the family too.
"""

from __future__ import annotations

from .base import DENSE_SEGMENT, TRAINING_GENES, Family
from .dense import DenseFamily

_REGISTRY: dict[str, Family] = {"GAFC1": DenseFamily()}


def register_family(family: Family) -> None:
    _REGISTRY[family.name] = family


def get_family(kind: str) -> Family:
    if kind not in _REGISTRY:
        raise ValueError(f"clade kind {kind!r}: allowed kinds are {sorted(_REGISTRY)}")
    return _REGISTRY[kind]


def family_names() -> list[str]:
    return sorted(_REGISTRY)


def unregister_family(kind: str) -> None:
    """Remove a family (tests that register a toy family clean up with this)."""
    if kind == "GAFC1":
        raise ValueError("unregister_family: GAFC1 is the base family and stays")
    _REGISTRY.pop(kind, None)


from . import conv, recurrent  # noqa: E402, F401  (the built-in families register themselves)


def _load_entry_points() -> None:
    from importlib.metadata import entry_points

    for point in entry_points(group="dlgene.families"):
        point.load()  # the module calls register_family


_load_entry_points()

__all__ = [
    "DENSE_SEGMENT",
    "TRAINING_GENES",
    "DenseFamily",
    "Family",
    "family_names",
    "get_family",
    "register_family",
    "unregister_family",
]
