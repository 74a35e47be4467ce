"""Adopting another clade's generation as this clade's current one (the original's
``new_genepool``): its genotypes, phenotypes and model files, under this clade's ids."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from . import population
from .errors import CladeStateError

if TYPE_CHECKING:
    from .clade import Clade


def load_genepool(
    clade: Clade, source: str | os.PathLike | Clade, generation: int | None = None
) -> pd.DataFrame:
    """Copy generation ``generation`` (default: the last) of ``source`` into ``clade``'s
    current generation, renumbered; select and breed from it there."""
    from .clade import Clade

    clade.store.check_writable()
    other = source if isinstance(source, Clade) else Clade.open(source, read_only=True)
    if other.config.kind != clade.config.kind:
        raise CladeStateError(
            f"load_genepool: source is a {other.config.kind} clade; this "
            f"clade is {clade.config.kind}"
        )
    if clade._n_finished(clade.generation):
        raise CladeStateError(
            "load_genepool: the current generation already has grown models; use a fresh clade"
        )
    gen = other.generation if generation is None else generation
    all_genotypes = other.all_genotypes
    genotypes = all_genotypes[all_genotypes["generation"] == gen].reset_index(drop=True).copy()
    phenotypes = other.generation_phenotypes(gen).copy()
    mapping = {
        old: population.model_id(clade.generation, i) for i, old in enumerate(genotypes["model_id"])
    }
    genotypes["model_id"] = genotypes["model_id"].map(mapping)
    genotypes["generation"] = clade.generation
    genotypes["parents"] = [[] for _ in range(len(genotypes))]
    clade._set_generation_genotypes(genotypes)
    for mid in phenotypes["model_id"]:
        clade.store.copy_model_files(other.store, mid, mapping[mid])
    phenotypes["model_id"] = phenotypes["model_id"].map(mapping)
    phenotypes["generation"] = clade.generation
    if len(phenotypes):
        clade.store.replace_rows("phenotypes", phenotypes, "model_id")
    clade._reload()
    return clade.genotypes
