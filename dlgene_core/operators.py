"""Genetic operators on single genotypes: random draw, crossover, mutation, bounds check.

A genotype is a plain dict: scalar genes (``optimizer``, ``learning_rate``, ...) plus one
list of block dicts per segment (``layers``: [{units, activation, regularizer, reg_value}]).
The operators are family-agnostic: they only use the family's gene and segment lists.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .config import CladeConfig
from .families.base import Family

Genotype = dict[str, Any]


def random_genotype(family: Family, cfg: CladeConfig, rng: np.random.Generator) -> Genotype:
    genotype: Genotype = {}
    for gene in family.scalar_genes:
        genotype.update(gene.sample(rng, cfg, genotype))
    for segment in family.segments:
        low, high = family.count_bounds(segment, cfg)
        count = int(rng.integers(low, high + 1))
        genotype[segment.name] = [segment.sample_block(rng, cfg) for _ in range(count)]
    return genotype


def crossover(
    family: Family, mother: Genotype, father: Genotype, cfg: CladeConfig, rng: np.random.Generator
) -> Genotype:
    """Uniform crossover of scalar genes; one-point crossover of each segment's blocks.

    The child takes the mother's first blocks and the father's last ones, so each layer keeps
    all its own fields; block counts stay inside the config's bounds.
    """
    child: Genotype = {}
    for gene in family.scalar_genes:
        donor = mother if rng.random() < 0.5 else father
        for field in gene.fields:
            child[field] = donor[field]
        if cfg.lr_ranges and "optimizer" in gene.fields and "learning_rate" in donor:
            optimizer_donor = donor
    if cfg.lr_ranges and "optimizer" in child:
        # a rate is tuned to its optimizer's family: they travel together
        child["learning_rate"] = optimizer_donor["learning_rate"]
    for segment in family.segments:
        low, high = family.count_bounds(segment, cfg)
        a, b = mother[segment.name], father[segment.name]
        cut_a = int(rng.integers(0, len(a) + 1))
        cut_b = int(rng.integers(0, len(b) + 1))
        blocks = [dict(x) for x in a[:cut_a]] + [dict(x) for x in b[cut_b:]]
        while len(blocks) > high:
            blocks.pop(int(rng.integers(len(blocks))))
        while len(blocks) < low:
            pool = a + b
            source = pool[int(rng.integers(len(pool)))] if pool else segment.sample_block(rng, cfg)
            blocks.insert(int(rng.integers(len(blocks) + 1)), dict(source))
        child[segment.name] = blocks
    return child


def mutation_sites(family: Family, genotype: Genotype, cfg: CladeConfig) -> list[tuple]:
    """Every mutation possible on this genotype: resample a scalar gene, or add / remove /
    change a block of a segment (the original's nb_layers mutation is add / remove)."""
    sites: list[tuple] = [("scalar", gene) for gene in family.scalar_genes]
    for segment in family.segments:
        low, high = family.count_bounds(segment, cfg)
        count = len(genotype[segment.name])
        if count < high:
            sites.append(("add", segment))
        if count > low:
            sites.append(("remove", segment))
        if count > 0:
            sites.extend(("change", segment, gene) for gene in segment.genes)
    return sites


def mutate(
    family: Family, genotype: Genotype, cfg: CladeConfig, rng: np.random.Generator, n_mutations: int
) -> tuple[Genotype, list[str]]:
    """Apply ``n_mutations`` random mutations; return the mutant and what was done."""
    mutant = copy.deepcopy(genotype)
    done: list[str] = []
    for _ in range(n_mutations):
        sites = mutation_sites(family, mutant, cfg)
        site = sites[int(rng.integers(len(sites)))]
        kind = site[0]
        if kind == "scalar":
            gene = site[1]
            mutant.update(gene.sample(rng, cfg, mutant))
            done.append(f"{'/'.join(gene.fields)}")
            if cfg.lr_ranges:  # a new optimizer may need a rate from its own family's range
                _redraw_outside(family, mutant, cfg, rng)
        elif kind == "add":
            segment = site[1]
            blocks = mutant[segment.name]
            at = int(rng.integers(len(blocks) + 1))
            blocks.insert(at, segment.sample_block(rng, cfg))
            done.append(f"+{segment.name}[{at}]")
        elif kind == "remove":
            segment = site[1]
            at = int(rng.integers(len(mutant[segment.name])))
            del mutant[segment.name][at]
            done.append(f"-{segment.name}[{at}]")
        else:
            segment, gene = site[1], site[2]
            at = int(rng.integers(len(mutant[segment.name])))
            mutant[segment.name][at].update(gene.sample(rng, cfg))
            done.append(f"{segment.name}[{at}].{'/'.join(gene.fields)}")
    return mutant, done


def _redraw_outside(family: Family, genotype: Genotype, cfg: CladeConfig, rng) -> None:
    for gene in family.scalar_genes:
        if all(f in genotype for f in gene.fields) and not gene.contains(genotype, cfg):
            genotype.update(gene.sample(rng, cfg, genotype))


def violations(family: Family, genotype: Genotype, cfg: CladeConfig) -> list[str]:
    """Every way the genotype lies outside the config's search space (empty: inside)."""
    problems: list[str] = []
    for gene in family.scalar_genes:
        missing = [f for f in gene.fields if f not in genotype]
        if missing:
            problems.append(f"missing gene {missing}")
        elif not gene.contains(genotype, cfg):
            problems.append(f"{gene.fields} = {[genotype[f] for f in gene.fields]} out of bounds")
    for segment in family.segments:
        blocks = genotype.get(segment.name)
        if not isinstance(blocks, list):
            problems.append(f"segment {segment.name!r} missing")
            continue
        low, high = family.count_bounds(segment, cfg)
        if not low <= len(blocks) <= high:
            problems.append(f"{segment.name}: {len(blocks)} blocks, allowed {low}..{high}")
        for i, block in enumerate(blocks):
            if set(block) != set(segment.fields):
                problems.append(f"{segment.name}[{i}] has fields {sorted(block)}")
                continue
            for gene in segment.genes:
                if not gene.contains(block, cfg):
                    problems.append(
                        f"{segment.name}[{i}].{gene.fields} out of bounds: "
                        f"{[block[f] for f in gene.fields]}"
                    )
    return problems


# ---------------------------------------------------------------------- table rows
def to_row(family: Family, genotype: Genotype) -> dict[str, Any]:
    """Flatten into table columns: scalars, ``nb_<segment>`` and one list column per field."""
    row: dict[str, Any] = {}
    for gene in family.scalar_genes:
        for field in gene.fields:
            row[field] = _plain(genotype[field])
    for segment in family.segments:
        blocks = genotype[segment.name]
        row[f"nb_{segment.name}"] = len(blocks)
        for field in segment.fields:
            row[f"{segment.name}_{field}"] = [_plain(b[field]) for b in blocks]
    return row


def gene_columns(family: Family) -> list[str]:
    """The genotype table's gene columns, in ``to_row``'s order, known before any row exists
    (panels lay out their columns from the first render)."""
    columns = [field for gene in family.scalar_genes for field in gene.fields]
    for segment in family.segments:
        columns.append(f"nb_{segment.name}")
        columns.extend(f"{segment.name}_{field}" for field in segment.fields)
    return columns


def from_row(family: Family, row: Any) -> Genotype:
    genotype: Genotype = {}
    for gene in family.scalar_genes:
        for field in gene.fields:
            genotype[field] = _plain(row[field])
    for segment in family.segments:
        count = int(row[f"nb_{segment.name}"])
        columns = {f: list(row[f"{segment.name}_{f}"]) for f in segment.fields}
        genotype[segment.name] = [
            {f: _plain(columns[f][i]) for f in segment.fields} for i in range(count)
        ]
    return genotype


def _plain(value: Any) -> Any:
    """numpy / pyarrow scalars to Python ones, so genotypes compare and serialise cleanly."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def conform(
    family: Family, genotype: Genotype, cfg: CladeConfig, rng: np.random.Generator
) -> Genotype:
    """Redraw any gene the (possibly narrowed) config no longer allows; fix block counts."""
    fixed = copy.deepcopy(genotype)
    for gene in family.scalar_genes:
        if any(f not in fixed for f in gene.fields) or not gene.contains(fixed, cfg):
            fixed.update(gene.sample(rng, cfg, fixed))
    for segment in family.segments:
        low, high = family.count_bounds(segment, cfg)
        blocks = fixed.setdefault(segment.name, [])
        del blocks[high:]
        while len(blocks) < low:
            blocks.append(segment.sample_block(rng, cfg))
        for block in blocks:
            for gene in segment.genes:
                if any(f not in block for f in gene.fields) or not gene.contains(block, cfg):
                    block.update(gene.sample(rng, cfg))
    return fixed
