"""Pruner thresholds: per-epoch values a model must reach, from earlier models' curves.

The clade computes them when it makes a generation's jobs, from every completed (not
pruned) model's validation curve, and ships them in the GrowJob; the worker compares the
model's best value so far at epoch k with threshold k (see ``growth._misses``).

- ``median`` (Optuna's MedianPruner): threshold k is the median of completed models'
  value at epoch k, for epochs past ``pruner_warmup_epochs``, once
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
    """One threshold per epoch (NaN: no check at that epoch); empty when the pruner is off."""
    if cfg.pruner == "none" or len(curves) < max(1, cfg.pruner_startup_models):
        return []
    longest = max(len(c) for c in curves)
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
