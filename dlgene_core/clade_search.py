"""The search steps of a clade: spawn random genotypes, select parents (by the strategy, by
tiers or by hand) and breed children, with duplicates made new against the whole run.

A mixin of :class:`~dlgene_core.clade.Clade`; the operators themselves are the pure
functions of :mod:`population` and the strategies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import population
from .dedup import known_forms, make_unique
from .errors import CladeStateError
from .operators import from_row
from .records import GrowJob
from .strategies import History, get_strategy, manual_selection


class SearchStepsMixin:
    """``spawn``, ``select_parents``, ``breed`` and the genotype tables they write."""

    # ------------------------------------------------------------------ spawn
    def spawn(self, n: int | None = None) -> pd.DataFrame:
        """Random genotypes for the current generation (replacing ungrown ones)."""
        with self._busy("spawning"):
            if self._n_finished(self.generation) > 0:
                raise CladeStateError(
                    f"spawn: generation {self.generation} already has grown "
                    "models; breed to go on, or start a new clade"
                )
            table = population.spawn(self.family, self.config, self.generation, n)
            table = self._unique(table)
            self._set_generation_genotypes(table)
            self.message = f"spawned {len(table)} genotypes for generation {self.generation}"
            return self.genotypes

    @property
    def strategy(self):
        """The search strategy named by ``config.strategy`` (it holds no state)."""
        return get_strategy(self.config.strategy)

    def history(self) -> History:
        """Every genotype and phenotype of every generation, as strategies read them."""
        return History(self._all_genotypes, self.phenotypes)

    def unique_among_all(self, rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Rows made new against every genotype of the clade (steady-state children)."""
        return make_unique(
            self.family, rows, known_forms(self.family, self._all_genotypes), self.config, rng
        )

    def add_genotypes(self, rows: pd.DataFrame) -> list[GrowJob]:
        """Append children to the folder's genotypes (steady state: one at a time) and
        return the jobs of those that need training (a duplicate is recorded, not grown)."""
        generation = int(rows["generation"].iloc[0])
        self._all_genotypes = pd.concat([self._all_genotypes, rows], ignore_index=True)
        self.store.write_table("genotypes", self._all_genotypes)
        lineage = _lineage_rows(rows)
        if len(lineage):
            self.store.replace_rows("lineage", lineage, "child_id")
        self.generation = generation
        self.genotypes = self._generation_rows(self._all_genotypes, generation)
        self.progress = (self._n_finished(generation), len(self.genotypes))
        self.record_duplicates()
        return self._jobs_for(rows)

    def unfinished_jobs(self) -> list[GrowJob]:
        """Jobs of every generation's models that were created but have not finished."""
        return self._jobs_for(self._all_genotypes)

    def _unique(self, table: pd.DataFrame) -> pd.DataFrame:
        """Children made new where they repeat a model of the clade (see :mod:`dedup`)."""
        generation = int(table["generation"].iloc[0])
        others = self._all_genotypes
        if not others.empty:
            others = others[others["generation"] != generation]
        rng = population.step_rng(self.config.seed, generation, population.DEDUP)
        return make_unique(self.family, table, known_forms(self.family, others), self.config, rng)

    def _set_generation_genotypes(self, table: pd.DataFrame) -> None:
        old = self._all_genotypes
        if not old.empty:
            old = old[old["generation"] != int(table["generation"].iloc[0])]
        self._all_genotypes = pd.concat([old, table], ignore_index=True) if len(old) else table
        self.store.write_table("genotypes", self._all_genotypes)
        lineage = _lineage_rows(table)
        if len(lineage):
            self.store.replace_rows("lineage", lineage, "child_id")
        self.genotypes = table.reset_index(drop=True)
        self.progress = (self._n_finished(self.generation), len(self.genotypes))

    def genotype(self, model_id: str) -> dict[str, Any]:
        """One model's genotype as a dict (segments as lists of blocks)."""
        rows = self._all_genotypes[self._all_genotypes["model_id"] == model_id]
        if rows.empty:
            raise KeyError(f"no model {model_id!r} in this clade")
        return from_row(self.family, rows.iloc[0])

    # ------------------------------------------------------------------ select / breed
    def select_parents(
        self,
        top_tier: float | None = None,
        random_tier: float | None = None,
        model_ids: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Top tier by the validation metric plus a random tier, or ``model_ids`` chosen by
        hand. The choice is written to the folder; ``breed`` uses it."""
        with self._busy("selecting"):
            chosen = self._choose_parents(top_tier, random_tier, model_ids)
            self.store.replace_generation("selections", chosen, self.generation)
            self.parents = chosen
            self.message = (
                f"selected {len(chosen)} parents of generation {self.generation}: "
                + ", ".join(chosen["model_id"])
            )
            return chosen

    def preview_parents(
        self, top_tier: float | None = None, random_tier: float | None = None
    ) -> pd.DataFrame:
        """Who ``select_parents`` would choose, without storing anything."""
        return self._choose_parents(top_tier, random_tier, None)

    def _choose_parents(
        self,
        top_tier: float | None,
        random_tier: float | None,
        model_ids: Sequence[str] | None,
    ) -> pd.DataFrame:
        """Hand-picked ids, or the strategy's choice (tier overrides: tiers strategy only)."""
        if model_ids is not None:
            return manual_selection(
                self.generation_phenotypes(), self.config, self.generation, model_ids
            )
        if self.config.strategy == "tiers" or top_tier is not None or random_tier is not None:
            if self.config.strategy != "tiers":
                raise ValueError(
                    f"select_parents: top_tier/random_tier apply to strategy 'tiers'; this "
                    f"clade's strategy is {self.config.strategy!r}"
                )
            return population.select_parents(
                self.generation_phenotypes(), self.config, self.generation, top_tier, random_tier
            )
        rng = population.step_rng(self.config.seed, self.generation, population.SELECT)
        return self.strategy.select(self.history(), self.config, self.generation, rng)

    def breed(self) -> pd.DataFrame:
        """Recombine and mutate the selected parents into the next generation's genotypes."""
        with self._busy("breeding"):
            picked = not self.parents.empty and (
                int(self.parents["generation"].iloc[0]) == self.generation
            )
            if not picked and self.strategy.needs_parents:
                raise CladeStateError(
                    f"breed: no parents selected in generation "
                    f"{self.generation}; call select_parents first"
                )
            ids = list(self.parents["model_id"]) if picked else []
            pairs = [(pid, self.genotype(pid)) for pid in ids]
            child_generation = self.generation + 1
            rng = population.step_rng(self.config.seed, child_generation, population.BREED)
            table = self.strategy.breed(
                self.family, pairs, self.config, child_generation, self.config.population_size, rng
            )
            table = self._unique(table)
            self.generation += 1
            self.parents = self.parents.iloc[0:0]
            self._set_generation_genotypes(table)
            self.message = f"bred {len(table)} children into generation {self.generation}"
            return self.genotypes


def _lineage_rows(table: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {"child_id": r["model_id"], "parent_id": p, "generation": int(r["generation"])}
        for _, r in table.iterrows()
        for p in (r.get("parents") or [])
    ]
    return pd.DataFrame(rows, columns=["child_id", "parent_id", "generation"])
