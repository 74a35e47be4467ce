"""The dlgene search space, asked of another tool gene by gene.

The peers do not get a hand-written copy of the space: :func:`sample_genotype` walks the
family's own genes and segments (the ones ``operators.random_genotype`` draws from) and asks
an :class:`Ask` adapter for each value, so the genes, bounds and priors are the config's.

- Uniform choices (optimizer, activation, padding, ...) are categorical parameters.
- Integers keep dlgene's log or linear scale; learning rates and L1/L2 strengths are
  log-uniform floats in the config's ranges (per optimizer family with ``lr_ranges``, per
  bin with the classic ``lr_bins``).
- Genes with non-uniform priors (a chance gene such as batch norm at 0.6, the regularizer
  kind with its ``regularizer_chance`` and ``regularizers`` weights) are one uniform float in
  [0, 1) mapped through the same cumulative probabilities, so random sampling draws exactly
  dlgene's prior and TPE can still model the choice.
"""

from __future__ import annotations

from typing import Any, Protocol

from dlgene_core.config import CladeConfig
from dlgene_core.families.base import Family
from dlgene_core.genes import ChanceGene, ChoiceGene, IntGene, LearningRateGene, RegularizerGene

_STRENGTH_FIELDS = {"l1": "l1_strength", "l2": "l2_strength", "dropout": "dropout_rate"}


class Ask(Protocol):
    """One tool's way of drawing a named value. ``draws_inactive``: the tool wants every
    parameter asked in every trial, used or not (KerasTuner registers its space that way)."""

    draws_inactive: bool

    def int(self, name: str, low: int, high: int, log: bool) -> int: ...

    def float(self, name: str, low: float, high: float, log: bool) -> float: ...

    def choice(self, name: str, options: list[Any]) -> Any: ...


class OptunaAsk:
    """Optuna's define-by-run trial: only the parameters a genotype uses are suggested."""

    draws_inactive = False

    def __init__(self, trial: Any):
        self.trial = trial

    def int(self, name: str, low: int, high: int, log: bool) -> int:
        return int(self.trial.suggest_int(name, low, high, log=log))

    def float(self, name: str, low: float, high: float, log: bool) -> float:
        return float(self.trial.suggest_float(name, low, high, log=log))

    def choice(self, name: str, options: list[Any]) -> Any:
        return self.trial.suggest_categorical(name, options)


class KerasTunerAsk:
    """KerasTuner's HyperParameters: every block up to the segment's maximum is asked, so
    the whole space is registered when the tuner first builds a model, and trial 0 already
    samples every gene instead of taking defaults for the ones it meets late."""

    draws_inactive = True

    def __init__(self, hp: Any):
        self.hp = hp

    def int(self, name: str, low: int, high: int, log: bool) -> int:
        return int(self.hp.Int(name, low, high, sampling="log" if log else "linear"))

    def float(self, name: str, low: float, high: float, log: bool) -> float:
        return float(self.hp.Float(name, low, high, sampling="log" if log else "linear"))

    def choice(self, name: str, options: list[Any]) -> Any:
        return self.hp.Choice(name, options)


def sample_genotype(
    family: Family, cfg: CladeConfig, ask: Ask, fixed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A genotype of ``family`` in ``cfg``'s space, every value asked of ``ask``;
    ``fixed`` scalar genes are set, not asked (Hyperband decides the epochs itself)."""
    fixed = fixed or {}
    genotype: dict[str, Any] = {}
    for gene in family.scalar_genes:
        if set(gene.fields) <= set(fixed):
            genotype.update({f: fixed[f] for f in gene.fields})
            continue
        genotype.update(_sample_gene(gene, cfg, ask, "", genotype))
    for segment in family.segments:
        low, high = family.count_bounds(segment, cfg)
        count = _int(ask, f"{segment.name}.count", low, high, False)
        blocks = []
        for i in range(high if ask.draws_inactive else count):
            block: dict[str, Any] = {}
            for gene in segment.genes:
                block.update(_sample_gene(gene, cfg, ask, f"{segment.name}.{i}.", block))
            blocks.append(block)
        genotype[segment.name] = blocks[:count]
    return genotype


def _sample_gene(
    gene: Any, cfg: CladeConfig, ask: Ask, prefix: str, context: dict[str, Any]
) -> dict[str, Any]:
    if isinstance(gene, IntGene):
        low, high = getattr(cfg, gene.range_field)
        return {gene.name: _int(ask, prefix + gene.name, low, high, gene.log)}
    if isinstance(gene, ChoiceGene):
        options = [str(o) for o in getattr(cfg, gene.options_field)]
        return {gene.name: _choice(ask, prefix + gene.name, options)}
    if isinstance(gene, ChanceGene):
        chance = float(getattr(cfg, gene.chance_field))
        return {gene.name: _uniform(ask, prefix + gene.name) < chance}
    if isinstance(gene, LearningRateGene):
        return {gene.name: _learning_rate(cfg, ask, prefix + gene.name, context)}
    if isinstance(gene, RegularizerGene):
        return _regularizer(gene, cfg, ask, prefix)
    raise TypeError(
        f"gene {type(gene).__name__} ({getattr(gene, 'fields', '?')}): the benchmark cannot "
        "express it for Optuna/KerasTuner; add it to searchbench/space.py"
    )


def _learning_rate(cfg: CladeConfig, ask: Ask, name: str, context: dict[str, Any]) -> float:
    """Per optimizer family with ``lr_ranges`` (the search presets); else a uniform bin of
    ``lr_bins`` and log-uniform inside it (the classic space). Each range is its own
    parameter, so a tool never mixes the rates of two ranges."""
    ranges = dict(getattr(cfg, "lr_ranges", {}) or {})
    if ranges:
        from dlgene_core.config import lr_range_for

        chosen = lr_range_for(cfg, context["optimizer"])
        asked = [chosen] if not ask.draws_inactive else sorted(set(map(tuple, ranges.values())))
        values = {tuple(r): _float(ask, f"{name}.{r[0]:g}-{r[1]:g}", *r, True) for r in asked}
        return values[tuple(chosen)]
    bins = [tuple(b) for b in cfg.lr_bins]
    index = int(_choice(ask, f"{name}.bin", list(range(len(bins)))))
    asked = range(len(bins)) if ask.draws_inactive else [index]
    values = {i: _float(ask, f"{name}.bin{i}", *bins[i], True) for i in asked}
    return values[index]


def _regularizer(gene: RegularizerGene, cfg: CladeConfig, ask: Ask, prefix: str) -> dict:
    draw = _uniform(ask, prefix + gene.kind_field)
    kind = "none"
    if draw < cfg.regularizer_chance:
        kinds = [k for k, p in cfg.regularizers.items() if p > 0]
        total = sum(cfg.regularizers[k] for k in kinds)
        position, cumulative = draw / cfg.regularizer_chance * total, 0.0
        kind = kinds[-1]
        for k in kinds:
            cumulative += cfg.regularizers[k]
            if position < cumulative:
                kind = k
                break
    asked = [k for k, p in cfg.regularizers.items() if p > 0] if ask.draws_inactive else [kind]
    values: dict[str, float] = {}
    for k in asked:
        if k == "none":
            continue
        low, high = getattr(cfg, _STRENGTH_FIELDS[k])
        log = k != "dropout" and low > 0
        values[k] = _float(ask, f"{prefix}{gene.value_field}.{k}", low, high, log)
    return {gene.kind_field: kind, gene.value_field: values.get(kind, 0.0)}


# A range of one value (or one option) is not a parameter: both tools would reject or waste it.
def _int(ask: Ask, name: str, low: int, high: int, log: bool) -> int:
    return int(low) if low == high else ask.int(name, int(low), int(high), log)


def _float(ask: Ask, name: str, low: float, high: float, log: bool) -> float:
    return float(low) if low == high else ask.float(name, float(low), float(high), log)


def _choice(ask: Ask, name: str, options: list[Any]) -> Any:
    return options[0] if len(options) == 1 else ask.choice(name, options)


def _uniform(ask: Ask, name: str) -> float:
    """A uniform draw in [0, 1) that stands for a non-uniform choice (see the module doc)."""
    return min(ask.float(name + "~u", 0.0, 1.0, False), 1.0 - 1e-12)
