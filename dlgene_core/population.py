"""Population steps on tables: spawn, select_parents and breed (pure functions).

Each takes a numpy Generator; the clade derives it from (seed, generation, step), so the
same seed gives the same genotypes whatever else happened in the session.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .config import CladeConfig
from .errors import CladeStateError
from .families.base import Family
from .operators import conform, crossover, mutate, random_genotype, to_row

USABLE_STATUSES = ("ok", "timed_out")
SPAWN, BREED, SELECT, TRAIN = 0, 1, 2, 3


def step_rng(seed: int, generation: int, step: int) -> np.random.Generator:
    return np.random.default_rng([seed, generation, step])


def model_id(generation: int, index: int) -> str:
    return f"g{generation}-{index:03d}"


def _table(family: Family, rows: list[dict], generation: int) -> pd.DataFrame:
    for i, row in enumerate(rows):
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
    return _table(family, rows, generation)


def rank(phenotypes: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Usable models, best first by ``metric`` (higher accuracy / lower loss)."""
    usable = phenotypes[phenotypes["status"].isin(USABLE_STATUSES)]
    usable = usable[np.isfinite(usable[metric].astype(float))]
    ascending = metric.endswith("loss")
    return usable.sort_values([metric, "model_id"], ascending=[ascending, True])


def select_parents(
    phenotypes: pd.DataFrame,
    cfg: CladeConfig,
    generation: int,
    top_tier: float | None = None,
    random_tier: float | None = None,
    model_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Top tier by the validation metric plus a random tier, or the ids a person chose."""
    metric = cfg.selection_metric
    pool = phenotypes[phenotypes["generation"] == generation]
    if pool.empty:
        raise CladeStateError(
            f"select_parents: generation {generation} has no grown models; run grow_models first"
        )
    if model_ids is not None:
        ids = list(dict.fromkeys(model_ids))
        unknown = [m for m in ids if m not in set(pool["model_id"])]
        if unknown or not ids:
            raise ValueError(
                f"select_parents: model_ids {unknown or ids} are not models of "
                f"generation {generation}; allowed: {sorted(pool['model_id'])}"
            )
        chosen = pool.set_index("model_id").loc[ids].reset_index()
        return _selection(chosen, "manual", metric, generation)
    top_tier = cfg.top_tier if top_tier is None else top_tier
    random_tier = cfg.random_tier if random_tier is None else random_tier
    for name, value in (("top_tier", top_tier), ("random_tier", random_tier)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"select_parents: {name}={value!r}; allowed: a share in [0, 1]")
    ranked = rank(pool, metric)
    if ranked.empty:
        raise CladeStateError(
            f"select_parents: no model of generation {generation} finished "
            f"with a finite {metric}; statuses: "
            f"{pool['status'].value_counts().to_dict()}"
        )
    n_top, n_random = tier_sizes(len(pool), top_tier, random_tier)
    top = ranked.head(max(1, n_top))
    rest = ranked.iloc[len(top) :]
    rng = step_rng(cfg.seed, generation, SELECT)
    n_random = min(n_random, len(rest))
    picked = rest.iloc[np.sort(rng.choice(len(rest), size=n_random, replace=False))]
    return pd.concat(
        [
            _selection(top, "top", metric, generation),
            _selection(picked, "random", metric, generation),
        ],
        ignore_index=True,
    )


def tier_sizes(population: int, top_tier: float, random_tier: float) -> tuple[int, int]:
    return round(top_tier * population), round(random_tier * population)


def _selection(rows: pd.DataFrame, reason: str, metric: str, generation: int) -> pd.DataFrame:
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
    """Children of the chosen parents for ``generation``: recombine, then mutate."""
    if not parent_genotypes:
        raise CladeStateError("breed: no parents selected; call select_parents first")
    rng = step_rng(cfg.seed, generation, BREED)
    size = cfg.population_size if n is None else n
    rows = []
    for _ in range(size):
        if len(parent_genotypes) == 1:
            ((pid, genotype),) = parent_genotypes
            child, parents = genotype, [pid]
        else:
            i, j = rng.choice(len(parent_genotypes), size=2, replace=False)
            (pa, ga), (pb, gb) = parent_genotypes[int(i)], parent_genotypes[int(j)]
            child, parents = crossover(family, ga, gb, cfg, rng), [pa, pb]
        mutations: list[str] = []
        # A lone parent's clone is always mutated, or the child would repeat it.
        if len(parent_genotypes) == 1 or rng.random() < cfg.mutate_prob:
            count = int(rng.integers(1, cfg.max_mutations + 1))
            child, mutations = mutate(family, child, cfg, rng, count)
        child = conform(family, child, cfg, rng)
        row = to_row(family, child)
        row.update(parents=parents, mutations=mutations)
        rows.append(row)
    return _table(family, rows, generation)
