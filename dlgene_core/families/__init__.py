"""Registry of clade families by kind name (GAFC1, GACNN1, GARNN1)."""

from __future__ import annotations

from .base import DENSE_SEGMENT, TRAINING_GENES, Family
from .dense import DenseFamily

_REGISTRY: dict[str, Family] = {"GAFC1": DenseFamily()}


def register_family(family: Family) -> None:
    _REGISTRY[family.name] = family


def get_family(kind: str) -> Family:
    _load_optional_families()
    if kind not in _REGISTRY:
        raise ValueError(f"clade kind {kind!r}: allowed kinds are {sorted(_REGISTRY)}")
    return _REGISTRY[kind]


def family_names() -> list[str]:
    _load_optional_families()
    return sorted(_REGISTRY)


def _load_optional_families() -> None:
    """Import the CNN / RNN families when present, so each registers itself."""
    import importlib

    for module in ("conv", "recurrent"):
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise


__all__ = [
    "DENSE_SEGMENT",
    "TRAINING_GENES",
    "DenseFamily",
    "Family",
    "family_names",
    "get_family",
    "register_family",
]
