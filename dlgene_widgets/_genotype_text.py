"""A genotype in one short line ("2x64/32 relu · adam lr 3e-03 · bs 32 · 5 ep"), so a person
choosing parents or reading a legend sees what a model is without opening the table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def _listed(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def short_genotype(row: Mapping[str, Any]) -> str:
    """The architecture and training settings of ``row`` (a genotype row) that a family has;
    columns it lacks are left out, so conv and recurrent genotypes read as well."""
    parts: list[str] = []
    units = row.get("layers_units")
    if units is not None:
        sizes = [str(int(u)) for u in _listed(units)]
        parts.append(f"{len(sizes)}x{'/'.join(sizes)}" if sizes else "0 layers")
    activations = row.get("layers_activation")
    if activations is not None:
        names = list(dict.fromkeys(str(a) for a in _listed(activations)))
        if names:
            parts.append("/".join(names))
    training = []
    if row.get("optimizer") is not None:
        training.append(str(row["optimizer"]))
    rate = row.get("learning_rate")
    if isinstance(rate, int | float) and math.isfinite(float(rate)):
        training.append(f"lr {float(rate):.0e}")
    if training:
        parts.append(" ".join(training))
    for column, label in (("batch_size", "bs"), ("epochs", "ep")):
        value = row.get(column)
        if isinstance(value, int | float) and math.isfinite(float(value)):
            parts.append(f"{label} {int(value)}")
    return " · ".join(parts)
