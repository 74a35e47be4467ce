"""Helpers shared by the family tests: tiny data sets and children made by each operator."""

from __future__ import annotations

import numpy as np

from dlgene_core.config import CladeConfig
from dlgene_core.data import DataSpec, make_dataset
from dlgene_core.families.base import Family
from dlgene_core.operators import conform, crossover, from_row, mutate, random_genotype
from dlgene_core.population import breed

OPERATIONS = ("random", "crossover", "mutate", "breed", "conform")


def tiny_dataset(shape: tuple[int, ...], form: str = "grid"):
    """12 random samples of ``shape`` in 3 classes (token ids below 20 for form 'tokens')."""
    rng = np.random.default_rng(0)
    if form == "tokens":
        x = rng.integers(0, 20, size=(12, *shape)).astype(np.int32)
    else:
        x = rng.normal(size=(12, *shape)).astype(np.float32)
    y = np.arange(12) % 3
    spec = DataSpec(name="tiny", form=form, validation_fraction=0.25)
    return make_dataset("tiny", x, y, x[:6], y[:6], spec, vocab_size=20)


def make_child(
    family: Family, cfg: CladeConfig, wide: CladeConfig, operation: str, seed: int
) -> dict:
    """A genotype made by ``operation``; 'conform' narrows a child of the ``wide`` space."""
    rng = np.random.default_rng(seed)
    mother, father = random_genotype(family, cfg, rng), random_genotype(family, cfg, rng)
    if operation == "random":
        return mother
    if operation == "crossover":
        return crossover(family, mother, father, cfg, rng)
    if operation == "mutate":
        return mutate(family, mother, cfg, rng, int(rng.integers(1, 4)))[0]
    if operation == "breed":
        bred_cfg = cfg.updated(seed=seed % 1000, mutate_prob=0.8)
        table = breed(family, [("a", mother), ("b", father)], bred_cfg, generation=1, n=1)
        return from_row(family, table.iloc[0])
    return conform(family, random_genotype(family, wide, rng), cfg, rng)
