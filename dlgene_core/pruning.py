"""Pruner thresholds: per-epoch values a model must reach, from earlier models' curves.

The clade computes them when it makes a generation's jobs, from every completed (not
pruned) model's validation curve, and ships them in the GrowJob; the worker compares the
model's best value so far at epoch k with threshold k (see ``growth._misses``).

The reference values are the completed models' best values so far, and a model that ended
before epoch k (early stopping, or fewer epochs in its genotype) keeps its best value at k:
that is what it holds, since it keeps its best epoch's weights. Taking only the models still
running at epoch k, as Optuna does (its trials all run every step), would set late
thresholds from the long runs alone, which early stopping leaves to the good models: on
Reuters (seed 2) that pruned, at epoch 6, a child that finishes second of its generation.

- ``median`` (Optuna's MedianPruner): threshold k is the median of those values at epoch
  k, for epochs past ``pruner_warmup_epochs``, once
  ``pruner_startup_models`` models have completed.
- ``halving`` (asynchronous successive halving): checks only at rungs, epochs
  ``warmup * rate**i`` (warmup at least 1), where a model must be in the best ``1/rate``
  of the completed models' values at that epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .config import CladeConfig


def prune_thresholds(cfg: CladeConfig, curves: Sequence[Sequence[float]]) -> list[float]:
    """One threshold per epoch (NaN: no check at that epoch); empty when the pruner is off.
    ``curves``: the completed models' per-epoch values of the selection metric."""
    if cfg.pruner == "none" or len(curves) < max(1, cfg.pruner_startup_models):
        return []
    lower_is_better = cfg.selection_metric.endswith("loss")
    longest = max(len(c) for c in curves)
    held = [best_so_far(c, lower_is_better, longest) for c in curves]
    return thresholds_over(cfg, held)


def best_so_far(curve: Sequence[float], lower_is_better: bool, length: int) -> list[float]:
    """The curve's best value up to each epoch, held after its last epoch up to ``length``
    (NaN until its first finite value)."""
    pick = min if lower_is_better else max
    held, best = [], math.nan
    for value in curve:
        if math.isfinite(value):
            best = value if not math.isfinite(best) else pick(best, value)
        held.append(best)
    return held + [best] * (length - len(held))


def thresholds_over(cfg: CladeConfig, curves: Sequence[Sequence[float]]) -> list[float]:
    """The pruner's quantile of ``curves``' finite values at each checked epoch (NaN
    elsewhere): the rule itself, on whatever per-epoch values it is given."""
    longest = max((len(c) for c in curves), default=0)
    lower_is_better = cfg.selection_metric.endswith("loss")
    if cfg.pruner == "median":
        checked = set(range(cfg.pruner_warmup_epochs, longest))
        share = 0.5
    else:
        rung, checked = max(1, cfg.pruner_warmup_epochs), set()
        while rung <= longest:
            checked.add(rung - 1)
            rung *= cfg.halving_rate
        share = 1.0 - 1.0 / cfg.halving_rate
    thresholds = []
    for epoch in range(longest):
        values = [c[epoch] for c in curves if len(c) > epoch and math.isfinite(c[epoch])]
        if epoch not in checked or not values:
            thresholds.append(math.nan)
            continue
        # the value that the best (1 - share) of completed models reach at this epoch
        q = (1.0 - share) if lower_is_better else share
        thresholds.append(float(np.quantile(values, q)))
    return thresholds
