"""Gene kinds: how one gene is drawn from the config's search space and checked against it.

A gene owns one or more fields of a genotype (the regularizer gene owns the kind and its
strength together, so they never disagree). ``sample`` returns ``{field: value}``;
``contains`` says whether values lie inside the config's bounds. A scalar gene is also
given the genotype drawn so far (``context``): the learning rate's range depends on the
optimizer's family.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import CladeConfig, lr_range_for


class Gene:
    fields: tuple[str, ...] = ()

    def sample(
        self, rng: np.random.Generator, cfg: CladeConfig, context: dict | None = None
    ) -> dict[str, Any]:
        raise NotImplementedError

    def contains(self, values: dict[str, Any], cfg: CladeConfig) -> bool:
        raise NotImplementedError


def _log_uniform_int(rng: np.random.Generator, low: int, high: int) -> int:
    value = math.exp(rng.uniform(math.log(low), math.log(high + 1)))
    return int(min(high, max(low, math.floor(value))))


@dataclass(frozen=True)
class IntGene(Gene):
    """An integer drawn from a config (low, high) range, optionally log-uniformly."""

    name: str
    range_field: str
    log: bool = False

    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name,)

    def sample(self, rng, cfg, context=None):
        low, high = getattr(cfg, self.range_field)
        value = _log_uniform_int(rng, low, high) if self.log else int(rng.integers(low, high + 1))
        return {self.name: value}

    def contains(self, values, cfg):
        low, high = getattr(cfg, self.range_field)
        value = values[self.name]
        return isinstance(value, int | np.integer) and low <= value <= high


@dataclass(frozen=True)
class ChoiceGene(Gene):
    """One option out of a config list (activations, optimizers, cells, ...)."""

    name: str
    options_field: str

    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name,)

    def sample(self, rng, cfg, context=None):
        options = getattr(cfg, self.options_field)
        return {self.name: str(options[int(rng.integers(len(options)))])}

    def contains(self, values, cfg):
        return values[self.name] in getattr(cfg, self.options_field)


@dataclass(frozen=True)
class ChanceGene(Gene):
    """A flag that is on with a config probability (batch norm, residual, bidirectional)."""

    name: str
    chance_field: str

    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name,)

    def sample(self, rng, cfg, context=None):
        return {self.name: bool(rng.random() < getattr(cfg, self.chance_field))}

    def contains(self, values, cfg):
        value = values[self.name]
        chance = getattr(cfg, self.chance_field)
        if chance == 0.0:
            return value is False or value == 0
        if chance == 1.0:
            return value is True or value == 1
        return isinstance(value, bool | np.bool_)


@dataclass(frozen=True)
class LearningRateGene(Gene):
    """Log-uniform in the optimizer family's ``lr_ranges`` range; with ``lr_ranges`` empty
    (the classic preset), a ``lr_bins`` bin drawn uniformly, then log-uniform inside it."""

    name: str = "learning_rate"

    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name,)

    def sample(self, rng, cfg, context=None):
        if cfg.lr_ranges:
            optimizer = (context or {}).get("optimizer")
            if optimizer is None:
                raise ValueError("learning_rate: lr_ranges needs the optimizer drawn first")
            low, high = lr_range_for(cfg, optimizer)
        else:
            low, high = cfg.lr_bins[int(rng.integers(len(cfg.lr_bins)))]
        return {self.name: float(math.exp(rng.uniform(math.log(low), math.log(high))))}

    def contains(self, values, cfg):
        value = values[self.name]
        if cfg.lr_ranges:
            if values.get("optimizer") is None:
                return False
            low, high = lr_range_for(cfg, values["optimizer"])
            return low * (1 - 1e-9) <= value <= high * (1 + 1e-9)
        return any(low * (1 - 1e-9) <= value <= high * (1 + 1e-9) for low, high in cfg.lr_bins)


_STRENGTH_FIELDS = {"l1": "l1_strength", "l2": "l2_strength", "dropout": "dropout_rate"}


@dataclass(frozen=True)
class RegularizerGene(Gene):
    """With ``regularizer_chance``: l1, l2 or dropout (by ``regularizers`` probabilities)."""

    kind_field: str = "regularizer"
    value_field: str = "reg_value"

    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.kind_field, self.value_field)

    def sample(self, rng, cfg, context=None):
        if rng.random() >= cfg.regularizer_chance:
            return {self.kind_field: "none", self.value_field: 0.0}
        kinds = list(cfg.regularizers)
        probs = np.array([cfg.regularizers[k] for k in kinds], dtype=float)
        kind = kinds[int(rng.choice(len(kinds), p=probs / probs.sum()))]
        low, high = getattr(cfg, _STRENGTH_FIELDS[kind])
        if kind == "dropout" or low <= 0:
            value = float(rng.uniform(low, high))
        else:
            value = float(math.exp(rng.uniform(math.log(low), math.log(high))))
        return {self.kind_field: kind, self.value_field: value}

    def contains(self, values, cfg):
        kind, value = values[self.kind_field], values[self.value_field]
        if kind == "none":
            return value == 0.0
        if kind not in cfg.regularizers or cfg.regularizers[kind] <= 0:
            return False
        low, high = getattr(cfg, _STRENGTH_FIELDS[kind])
        return low * (1 - 1e-9) <= value <= high * (1 + 1e-9)


@dataclass(frozen=True)
class Segment:
    """A variable-length list of blocks (dense layers, conv blocks, recurrent layers).

    Blocks cross over and mutate as units, so a layer's fields always stay together.
    """

    name: str
    count_field: str
    genes: tuple[Gene, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for gene in self.genes for f in gene.fields)

    def count_range(self, cfg: CladeConfig) -> tuple[int, int]:
        return tuple(getattr(cfg, self.count_field))  # type: ignore[return-value]

    def sample_block(self, rng: np.random.Generator, cfg: CladeConfig) -> dict[str, Any]:
        block: dict[str, Any] = {}
        for gene in self.genes:
            block.update(gene.sample(rng, cfg))
        return block
