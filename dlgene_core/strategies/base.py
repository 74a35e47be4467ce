"""The search-strategy contract (modelled on Optuna's samplers and its ask/tell loop).

A strategy holds no history of its own: the clade hands it the whole history (every
generation's genotypes and phenotypes) each time, plus seeded generators, and the strategy
answers with new genotype rows whose ``parents`` and ``mutations`` say where they came from.
The clade records the answer and trains it ("tell" is the clade writing the phenotypes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import CladeConfig
from ..errors import CladeStateError
from ..families.base import Family
from ..population import SELECTION_COLUMNS, selection_table

RngFor = Callable[[int], np.random.Generator]  # step -> generator (see population.step_rng)


@dataclass(frozen=True)
class History:
    """Everything the clade knows: all genotype rows and all phenotype rows, every generation."""

    genotypes: pd.DataFrame
    phenotypes: pd.DataFrame

    def generation(self, generation: int) -> pd.DataFrame:
        """Phenotypes of one generation (empty frame when none)."""
        table = self.phenotypes
        if table.empty:
            return table
        return table[table["generation"] == generation]


class Strategy:
    """Subclasses set ``name`` and implement ``select`` and ``breed``.

    ``select`` picks parents (a selections table: generation, model_id, reason, metric,
    value) from the history of the generation about to breed; ``breed`` makes ``n``
    children for ``generation`` from parents given as ``(model_id, genotype)`` pairs.
    Hand-picked parents (``manual_selection``) feed the same ``breed``.
    """

    name: str = ""
    needs_parents: bool = True

    def select(
        self, history: History, cfg: CladeConfig, generation: int, rng: np.random.Generator
    ) -> pd.DataFrame:
        raise NotImplementedError

    def breed(
        self,
        family: Family,
        parents: list[tuple[str, dict]],
        cfg: CladeConfig,
        generation: int,
        n: int,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        raise NotImplementedError

    def ask(
        self,
        family: Family,
        history: History,
        cfg: CladeConfig,
        generation: int,
        n: int,
        rng_for: RngFor,
        genotype_of: Callable[[str], dict],
    ) -> pd.DataFrame:
        """``n`` new genotype rows for ``generation`` (select + breed in one call; n may be 1).

        ``rng_for(step)`` gives the generator of a step; ``genotype_of(model_id)`` a parent's
        genotype. The generational clade calls ``select`` and ``breed`` itself, so that a
        person can pick the parents in between; a steady-state loop calls ``ask``.
        """
        from ..population import BREED, SELECT

        parents: list[tuple[str, dict]] = []
        if self.needs_parents:
            chosen = self.select(history, cfg, generation - 1, rng_for(SELECT))
            parents = [(m, genotype_of(m)) for m in dict.fromkeys(chosen["model_id"])]
        return self.breed(family, parents, cfg, generation, n, rng_for(BREED))


def require_parents(parents: list[tuple[str, dict]]) -> None:
    if not parents:
        raise CladeStateError("breed: no parents selected; call select_parents first")


def child_row(
    family: Family,
    genotype: dict,
    parent_ids: list[str],
    cfg: CladeConfig,
    rng: np.random.Generator,
    always_mutate: bool,
) -> dict:
    """A child's genotype row: ``genotype`` (a clone or a crossover) mutated, always or with
    ``mutate_prob``, made valid, with its parents and mutations recorded. Every strategy
    breeds through here, so the order of random draws is one rule for all of them."""
    from ..operators import conform, mutate, to_row

    mutations: list[str] = []
    if always_mutate or rng.random() < cfg.mutate_prob:
        count = int(rng.integers(1, cfg.max_mutations + 1))
        genotype, mutations = mutate(family, genotype, cfg, rng, count)
    genotype = conform(family, genotype, cfg, rng)
    row = to_row(family, genotype)
    row.update(parents=parent_ids, mutations=mutations)
    return row


def manual_selection(
    phenotypes: pd.DataFrame, cfg: CladeConfig, generation: int, model_ids: Sequence[str]
) -> pd.DataFrame:
    """The parents a person picked: models of ``generation``, in the order given."""
    pool = phenotypes[phenotypes["generation"] == generation] if len(phenotypes) else phenotypes
    if pool.empty:
        raise CladeStateError(
            f"select_parents: generation {generation} has no grown models; run grow_models first"
        )
    ids = list(dict.fromkeys(model_ids))
    unknown = [m for m in ids if m not in set(pool["model_id"])]
    if unknown or not ids:
        raise ValueError(
            f"select_parents: model_ids {unknown or ids} are not models of "
            f"generation {generation}; allowed: {sorted(pool['model_id'])}"
        )
    chosen = pool.set_index("model_id").loc[ids].reset_index()
    return selection_table(chosen, "manual", cfg.selection_metric, generation)


__all__ = [
    "SELECTION_COLUMNS",
    "History",
    "RngFor",
    "Strategy",
    "child_row",
    "manual_selection",
    "require_parents",
]
