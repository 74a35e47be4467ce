"""NSGA-II (Deb et al. 2002): elitist survival on several objectives, batched in generations.

Survivors are chosen from parents and children together: every usable model of the history
up to the breeding generation is sorted into fronts (``config.objectives``), then by
crowding distance inside a front, and the best ``population_size`` survive (pruned models
only after every usable one). Parents are winners of binary tournaments on (front,
-crowding) among the survivors; each child is a crossover of two winners and is mutated
with ``mutate_prob`` (always, when both parents are one model), as the tiers strategy breeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import CladeConfig, objectives_of
from ..errors import CladeStateError
from ..families.base import Family
from ..operators import crossover
from ..pareto import rank_by_objectives
from ..population import genotype_table, selection_table
from ..records import USABLE_STATUSES
from .base import History, Strategy, child_row, require_parents


def survivors(history: History, cfg: CladeConfig, generation: int) -> pd.DataFrame:
    """The best ``population_size`` models up to ``generation``, best first, with their
    ``front`` and ``crowding``; pruned models rank after usable ones (front counted apart)."""
    table = history.phenotypes
    if table.empty:
        return table
    pool = table[table["generation"] <= generation]
    ranked = rank_by_objectives(pool, objectives_of(cfg), with_scores=True)
    return ranked.head(cfg.population_size)


def binary_tournament(pool: pd.DataFrame, rounds: int, rng: np.random.Generator) -> pd.DataFrame:
    """Winners of ``rounds`` tournaments of two distinct members: usable before pruned,
    then the lower front, then the larger crowding distance, then the better rank."""
    if len(pool) == 1:
        return pool.iloc[[0] * rounds]
    unusable = (~pool["status"].isin(USABLE_STATUSES)).to_numpy()
    front = pool["front"].to_numpy()
    crowding = pool["crowding"].to_numpy()
    winners = []
    for _ in range(rounds):
        drawn = rng.choice(len(pool), size=2, replace=False)
        best = min(drawn, key=lambda i: (unusable[i], front[i], -crowding[i], int(i)))
        winners.append(int(best))
    return pool.iloc[winners]


class NSGA2Strategy(Strategy):
    name = "nsga2"

    def select(self, history: History, cfg, generation, rng):
        pool = survivors(history, cfg, generation)
        if pool.empty:
            columns = ", ".join(c for c, _ in objectives_of(cfg))
            raise CladeStateError(
                f"select_parents: no model up to generation {generation} finished with "
                f"finite objectives ({columns}); nsga2 needs at least one"
            )
        winners = binary_tournament(pool, cfg.population_size, rng)
        metric = objectives_of(cfg)[0][0]
        return selection_table(winners, "tournament", metric, generation)

    def breed(
        self,
        family: Family,
        parents: list[tuple[str, dict]],
        cfg: CladeConfig,
        generation: int,
        n: int,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        """Child i crosses winners 2i and 2i+1 (cycling through the tournament's order)."""
        require_parents(parents)
        rows = []
        for i in range(n):
            pa, ga = parents[(2 * i) % len(parents)]
            pb, gb = parents[(2 * i + 1) % len(parents)]
            if pa == pb:
                child, ids = ga, [pa]
            else:
                child, ids = crossover(family, ga, gb, cfg, rng), [pa, pb]
            # a child of one model alone is always mutated, or it would repeat that model
            rows.append(child_row(family, child, ids, cfg, rng, always_mutate=len(ids) == 1))
        return genotype_table(family, rows, generation)
