"""Regularized (aging) evolution, Real et al. 2019, batched into generations.

The population is the last ``population_size`` finished models across all generations
(age: generation, then index), so the oldest leaves as each child arrives. Each child comes
from a tournament: ``sample_size`` members drawn at random, the best by the validation
metric wins and is mutated (with ``aging_crossover``, crossed with a second winner first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import CladeStateError
from ..operators import crossover
from ..population import genotype_table, selection_table
from ..records import MEMBER_STATUSES
from .base import History, Strategy, child_row, require_parents


def aging_window(history: History, cfg, generation: int) -> pd.DataFrame:
    """The last ``population_size`` member models up to ``generation``, oldest first."""
    table = history.phenotypes
    if table.empty:
        return table
    members = table[(table["status"].isin(MEMBER_STATUSES)) & (table["generation"] <= generation)]
    members = members[np.isfinite(members[cfg.selection_metric].astype(float))]
    members = members.sort_values(["generation", "model_id"])
    return members.tail(cfg.population_size)


def tournament(window: pd.DataFrame, cfg, rng: np.random.Generator, rounds: int) -> pd.DataFrame:
    """Winners of ``rounds`` tournaments of ``sample_size`` drawn from ``window``."""
    metric = cfg.selection_metric
    values = window[metric].astype(float).to_numpy()
    # pruned models lose to any model that trained to the end
    pruned = (window["status"] == "pruned").to_numpy()
    score = -values if metric.endswith("loss") else values
    size = min(cfg.sample_size, len(window))
    winners = []
    for _ in range(rounds):
        drawn = rng.choice(len(window), size=size, replace=False)
        best = max(drawn, key=lambda i: (not pruned[i], score[i], -int(i)))
        winners.append(int(best))
    return window.iloc[winners]


class AgingStrategy(Strategy):
    name = "aging"

    def select(self, history: History, cfg, generation, rng):
        window = aging_window(history, cfg, generation)
        if window.empty:
            raise CladeStateError(
                f"select_parents: no model up to generation {generation} finished with a "
                f"finite {cfg.selection_metric}; aging needs at least one"
            )
        winners = tournament(window, cfg, rng, cfg.population_size)
        return selection_table(winners, "tournament", cfg.selection_metric, generation)

    def breed(self, family, parents, cfg, generation, n, rng):
        """Child i mutates parent i (cycling); the parents list keeps tournament repeats."""
        require_parents(parents)
        rows = []
        for i in range(n):
            pid, genotype = parents[i % len(parents)]
            ids = [pid]
            if len(parents) > 1 and rng.random() < cfg.aging_crossover:
                other = int(rng.integers(len(parents)))
                oid, other_genotype = parents[other]
                genotype = crossover(family, genotype, other_genotype, cfg, rng)
                ids = list(dict.fromkeys([pid, oid]))
            rows.append(child_row(family, genotype, ids, cfg, rng, always_mutate=True))
        return genotype_table(family, rows, generation)
