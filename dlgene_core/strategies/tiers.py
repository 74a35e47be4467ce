"""Tiers: the original deeplearngene generational GA (moved here unchanged).

Parents are the top tier of the generation by the validation metric plus a random tier of
the rest; each child is a crossover of two parents, mutated with ``mutate_prob``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import CladeConfig, objectives_of
from ..errors import CladeStateError
from ..families.base import Family
from ..operators import crossover
from ..pareto import rank_by_objectives
from ..population import genotype_table, selection_table, tier_sizes
from .base import History, Strategy, child_row, require_parents


def select_tiers(
    phenotypes: pd.DataFrame,
    cfg: CladeConfig,
    generation: int,
    top_tier: float | None = None,
    random_tier: float | None = None,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Top tier by the objectives (one: the validation metric; several: Pareto front, then
    crowding) plus a random tier of ``generation``'s models."""
    from ..population import SELECT, step_rng

    objectives = objectives_of(cfg)
    metric = objectives[0][0]
    pool = phenotypes[phenotypes["generation"] == generation] if len(phenotypes) else phenotypes
    if pool.empty:
        raise CladeStateError(
            f"select_parents: generation {generation} has no grown models; run grow_models first"
        )
    top_tier = cfg.top_tier if top_tier is None else top_tier
    random_tier = cfg.random_tier if random_tier is None else random_tier
    for name, value in (("top_tier", top_tier), ("random_tier", random_tier)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"select_parents: {name}={value!r}; allowed: a share in [0, 1]")
    ranked = rank_by_objectives(pool, objectives)
    if ranked.empty:
        raise CladeStateError(
            f"select_parents: no model of generation {generation} finished "
            f"with a finite {', '.join(c for c, _ in objectives)}; statuses: "
            f"{pool['status'].value_counts().to_dict()}"
        )
    n_top, n_random = tier_sizes(len(pool), top_tier, random_tier)
    top = ranked.head(max(1, n_top))
    rest = ranked.iloc[len(top) :]
    rng = step_rng(cfg.seed, generation, SELECT) if rng is None else rng
    n_random = min(n_random, len(rest))
    picked = rest.iloc[np.sort(rng.choice(len(rest), size=n_random, replace=False))]
    return pd.concat(
        [
            selection_table(top, "top", metric, generation),
            selection_table(picked, "random", metric, generation),
        ],
        ignore_index=True,
    )


def breed_tiers(
    family: Family,
    parent_genotypes: list[tuple[str, dict]],
    cfg: CladeConfig,
    generation: int,
    n: int,
    rng: np.random.Generator,
    first_index: int = 0,
) -> pd.DataFrame:
    """``n`` children of the parents: crossover of two (a lone parent is cloned), mutation."""
    require_parents(parent_genotypes)
    rows = []
    for _ in range(n):
        if len(parent_genotypes) == 1:
            ((pid, genotype),) = parent_genotypes
            child, parents = genotype, [pid]
        else:
            i, j = rng.choice(len(parent_genotypes), size=2, replace=False)
            (pa, ga), (pb, gb) = parent_genotypes[int(i)], parent_genotypes[int(j)]
            child, parents = crossover(family, ga, gb, cfg, rng), [pa, pb]
        # a lone parent's clone is always mutated, or the child would repeat it
        lone = len(parent_genotypes) == 1
        rows.append(child_row(family, child, parents, cfg, rng, always_mutate=lone))
    return genotype_table(family, rows, generation, first_index)


class TiersStrategy(Strategy):
    name = "tiers"

    def select(self, history: History, cfg, generation, rng):
        return select_tiers(history.phenotypes, cfg, generation, rng=rng)

    def breed(self, family, parents, cfg, generation, n, rng):
        return breed_tiers(family, parents, cfg, generation, n, rng)
