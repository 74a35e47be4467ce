"""Random search: every generation is a fresh spawn (the baseline the others must beat)."""

from __future__ import annotations

from ..operators import random_genotype, to_row
from ..population import genotype_table
from .base import History, Strategy
from .tiers import breed_tiers


class RandomStrategy(Strategy):
    """Spawn only. Parents picked by hand still breed (crossover + mutation, as tiers)."""

    name = "random"
    needs_parents = False

    def select(self, history: History, cfg, generation, rng):
        import pandas as pd

        from ..population import SELECTION_COLUMNS

        return pd.DataFrame(columns=SELECTION_COLUMNS)

    def breed(self, family, parents, cfg, generation, n, rng):
        if parents:
            return breed_tiers(family, parents, cfg, generation, n, rng)
        rows = []
        for _ in range(n):
            row = to_row(family, random_genotype(family, cfg, rng))
            row.update(parents=[], mutations=[])
            rows.append(row)
        return genotype_table(family, rows, generation)
