"""Population steps on tables: spawn, rank, and the tiers strategy's select and breed.

Each takes a numpy Generator; the clade derives it from (seed, generation, step), so the
same seed gives the same genotypes whatever else happened in the session. The search
strategies themselves live in :mod:`dlgene_core.strategies`; ``select_parents`` and
``breed`` here are the tiers strategy, kept under their old names.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .config import CladeConfig
from .families.base import Family
from .operators import random_genotype, to_row
from .records import RANKED_AFTER_USABLE, USABLE_STATUSES

SPAWN, BREED, SELECT, TRAIN, DEDUP = 0, 1, 2, 3, 4
SELECTION_COLUMNS = ["generation", "model_id", "reason", "metric", "value"]


def step_rng(seed: int, generation: int, step: int) -> np.random.Generator:
    return np.random.default_rng([seed, generation, step])


def model_id(generation: int, index: int) -> str:
    return f"g{generation}-{index:03d}"


def genotype_table(
    family: Family, rows: list[dict], generation: int, first_index: int = 0
) -> pd.DataFrame:
    """Rows into a genotypes table with ids ``g<generation>-<index>`` from ``first_index``."""
    for i, row in enumerate(rows, start=first_index):
        row.setdefault("model_id", model_id(generation, i))
        row.setdefault("generation", generation)
        row.setdefault("kind", family.name)
    frame = pd.DataFrame(rows)
    first = ["model_id", "generation", "kind"]
    return frame[first + [c for c in frame.columns if c not in first]]


def spawn(
    family: Family, cfg: CladeConfig, generation: int = 0, n: int | None = None
) -> pd.DataFrame:
    """A table of random genotypes (the original's ``spawn``)."""
    rng = step_rng(cfg.seed, generation, SPAWN)
    size = cfg.population_size if n is None else n
    rows = []
    for _ in range(size):
        row = to_row(family, random_genotype(family, cfg, rng))
        row.update(parents=[], mutations=[])
        rows.append(row)
    return genotype_table(family, rows, generation)


def rank(phenotypes: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Usable models, best first by ``metric`` (higher accuracy / lower loss); pruned models
    follow, best first among themselves."""
    ascending = metric.endswith("loss")
    parts = []
    for statuses in (USABLE_STATUSES, RANKED_AFTER_USABLE):
        part = phenotypes[phenotypes["status"].isin(statuses)]
        part = part[np.isfinite(part[metric].astype(float))]
        parts.append(part.sort_values([metric, "model_id"], ascending=[ascending, True]))
    if parts[1].empty:
        return parts[0]
    return pd.concat(parts) if len(parts[0]) else parts[1]


def select_parents(
    phenotypes: pd.DataFrame,
    cfg: CladeConfig,
    generation: int,
    top_tier: float | None = None,
    random_tier: float | None = None,
    model_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Top tier by the validation metric plus a random tier, or the ids a person chose."""
    from .strategies.base import manual_selection
    from .strategies.tiers import select_tiers

    if model_ids is not None:
        return manual_selection(phenotypes, cfg, generation, model_ids)
    return select_tiers(phenotypes, cfg, generation, top_tier, random_tier)


def tier_sizes(population: int, top_tier: float, random_tier: float) -> tuple[int, int]:
    return round(top_tier * population), round(random_tier * population)


def selection_table(rows: pd.DataFrame, reason: str, metric: str, generation: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "generation": generation,
            "model_id": rows["model_id"].astype(str).to_numpy(),
            "reason": reason,
            "metric": metric,
            "value": rows[metric].astype(float).to_numpy(),
        }
    )


def breed(
    family: Family,
    parent_genotypes: list[tuple[str, dict]],
    cfg: CladeConfig,
    generation: int,
    n: int | None = None,
) -> pd.DataFrame:
    """Children of the chosen parents for ``generation``: recombine, then mutate (tiers)."""
    from .strategies.tiers import breed_tiers

    size = cfg.population_size if n is None else n
    return breed_tiers(
        family, parent_genotypes, cfg, generation, size, step_rng(cfg.seed, generation, BREED)
    )
