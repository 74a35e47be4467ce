"""Steady-state evolution: a child is bred the moment a worker frees up.

A generational run waits for the slowest model of a generation before it breeds the
next, so workers idle at the end of every generation (the more model times differ, the
longer). Here the executor gets an open :class:`~.executors.JobFeed` holding as many jobs
as it has room for (its slots and their queued jobs); every result that comes back is
recorded and then, at once, the next child is asked of the strategy (from the whole
history, which now holds that result) and added to the feed. Generation numbers stay
meaningful: generation g is the g-th block of
``population_size`` children in order of creation (the first block is random, as in
Real et al.'s aging evolution), so the panels, the folder and ``best(generation=...)``
read as before.

Resume after a kill: every child is written to the genotypes table before it is queued,
and a model counts as done only once its phenotype row is written, so re-opening the
folder queues the created-but-unfinished children first and breeds on from there; no model
is trained twice. With one slot (the in-process executor) a run is repeatable; with
several, which result comes back first depends on timing, and so do later children.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import population
from .executors import JobFeed

if TYPE_CHECKING:
    from .clade import Clade
    from .records import GrowJob, ModelResult

_STEADY = 10_007  # keeps a steady-state child's generators apart from the generational ones


class SteadyStateRun:
    """One steady-state evolve call: ``total`` models in all (counted over the folder)."""

    def __init__(self, clade: Clade, runner: Any, total: int):
        self.clade = clade
        self.runner = runner
        self.total = total
        self.slots = max(1, int(getattr(runner, "capacity", 1) or 1))
        self.feed = JobFeed.open()
        self.in_flight: set[str] = set()
        self.waiting: deque[GrowJob] = deque(clade.unfinished_jobs())  # resume first

    def run(self) -> None:
        self.top_up()
        if not self.feed.exhausted:
            self.clade.run_jobs(self.runner, self.feed, on_result=self.on_result)

    def on_result(self, result: ModelResult) -> None:
        self.in_flight.discard(result.model_id)
        self.clade._on_result(result)
        self.clade.record_duplicates()  # children that repeat this model get its result
        self.top_up()

    def top_up(self) -> None:
        """Keep ``slots`` models in flight until the budget is spent, then close the feed."""
        clade = self.clade
        while len(self.in_flight) < self.slots and not clade.stop_requested:
            job = self.waiting.popleft() if self.waiting else self.next_child()
            if job is None:
                break
            self.in_flight.add(job.model_id)
            self.feed.add(job)
        if clade.stop_requested or not self.in_flight:
            self.feed.close()

    def next_child(self) -> GrowJob | None:
        """Breed children until one needs training (a duplicate is recorded, not grown)."""
        clade = self.clade
        while len(clade.all_genotypes) < self.total:
            row = breed_one(clade, len(clade.all_genotypes))
            jobs = clade.add_genotypes(row)
            if jobs:
                return jobs[0]
        return None


def breed_one(clade: Clade, index: int) -> pd.DataFrame:
    """Child number ``index`` of the run (a one-row genotypes table, made new if it repeats
    a model): random in the first block, else asked of the strategy from the history."""
    cfg = clade.config
    generation, position = divmod(index, cfg.population_size)
    if generation == 0:  # the same random block a generational run would spawn
        row = population.spawn(clade.family, cfg, 0).iloc[[position]]
    else:

        def rng_for(step: int) -> np.random.Generator:
            return np.random.default_rng([cfg.seed, _STEADY, index, step])

        row = _ask_one(clade, generation, rng_for)
    row = row.reset_index(drop=True)
    row["model_id"] = population.model_id(generation, position)
    row["generation"] = generation
    return clade.unique_among_all(row, np.random.default_rng([cfg.seed, _STEADY, index, 99]))


def _ask_one(clade: Clade, generation: int, rng_for) -> pd.DataFrame:
    """One child of ``generation`` from the strategy (select + breed, like ``ask``), with
    the selection rows of its parents appended to the folder's selections table."""
    strategy, cfg = clade.strategy, clade.config
    parents: list[tuple[str, dict]] = []
    chosen = pd.DataFrame()
    if strategy.needs_parents:
        chosen = strategy.select(clade.history(), cfg, generation - 1, rng_for(population.SELECT))
        parents = [(m, clade.genotype(m)) for m in dict.fromkeys(chosen["model_id"])]
    row = strategy.breed(clade.family, parents, cfg, generation, 1, rng_for(population.BREED))
    if len(chosen):
        used = set(row["parents"].iloc[0])
        clade.add_selections(chosen[chosen["model_id"].isin(used)].drop_duplicates("model_id"))
    return row
