"""No model trained twice: a genotype's canonical form, and making bred children new.

Two genotypes are the same model when their canonical forms are equal: the table row
(``to_row``) as JSON with sorted keys and floats rounded to 6 significant digits (a learning
rate of 0.0012345678 and 0.0012345679 train the same model for any practical purpose).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .config import CladeConfig
from .families.base import Family
from .operators import Genotype, conform, from_row, mutate, to_row

SIGNIFICANT_DIGITS = 6
MAX_RETRIES = 25  # mutation attempts to make a duplicate child new


def _rounded(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(f"{float(value):.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, list | tuple | np.ndarray):
        return [_rounded(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def canonical(family: Family, genotype: Genotype) -> str:
    """The genotype as one comparable string (see the module docstring)."""
    row = to_row(family, genotype)
    return json.dumps({k: _rounded(v) for k, v in row.items()}, sort_keys=True)


def known_forms(family: Family, genotypes: pd.DataFrame) -> dict[str, str]:
    """canonical form -> the first model id that has it, over a genotypes table."""
    forms: dict[str, str] = {}
    for _, row in genotypes.iterrows():
        forms.setdefault(canonical(family, from_row(family, row)), str(row["model_id"]))
    return forms


def make_unique(
    family: Family,
    children: pd.DataFrame,
    known: dict[str, str],
    cfg: CladeConfig,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Children with every genotype new: a repeat (of ``known`` or of an earlier child) is
    mutated again up to ``MAX_RETRIES`` times; one that stays a repeat keeps its genotype
    and names the model it repeats in ``duplicate_of`` (it is not trained)."""
    forms = dict(known)
    rows = []
    for _, row in children.iterrows():
        record = row.to_dict()
        genotype = from_row(family, row)
        form = canonical(family, genotype)
        mutations = list(record.get("mutations") or [])
        tries = 0
        while form in forms and tries < MAX_RETRIES:
            tries += 1
            candidate, done = mutate(family, genotype, cfg, rng, 1)
            candidate = conform(family, candidate, cfg, rng)
            candidate_form = canonical(family, candidate)
            if candidate_form not in forms:
                genotype, form = candidate, candidate_form
                mutations += [*done, "dedup"]
        duplicate_of = forms.get(form, "")
        if tries and not duplicate_of:
            record.update(to_row(family, genotype))
            record["mutations"] = mutations
        record["duplicate_of"] = duplicate_of
        if not duplicate_of:
            forms[form] = str(record["model_id"])
        rows.append(record)
    return pd.DataFrame(
        rows,
        columns=[*children.columns, "duplicate_of"]
        if "duplicate_of" not in children.columns
        else children.columns,
    )


def duplicate_ids(genotypes: pd.DataFrame) -> dict[str, str]:
    """model id -> id of the model it repeats, for the rows marked as duplicates."""
    if genotypes.empty or "duplicate_of" not in genotypes.columns:
        return {}
    marked = genotypes[genotypes["duplicate_of"].fillna("").astype(str) != ""]
    return dict(
        zip(marked["model_id"].astype(str), marked["duplicate_of"].astype(str), strict=True)
    )


def trained_forms(family: Family, genotypes: Iterable[Genotype]) -> list[str]:
    return [canonical(family, g) for g in genotypes]
