"""benchmarks/pruner_replay.py on hand-made curves: the two rules differ exactly where a
model that stopped early leaves the late thresholds to the long runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from pruner_replay import RULES, replay

from dlgene_core.config import CladeConfig

GOOD = [0.5, 0.7, 0.80, 0.82, 0.83]
BLOCK = [GOOD, GOOD, [0.3, 0.4], [0.3, 0.45], [0.6, 0.78, 0.81]]  # generation 0's first 5
CHILD = [0.5, 0.7, 0.80, 0.82, 0.825, 0.826]  # as good as the best by its end
POOR = [0.2, 0.25, 0.3, 0.3]


def _models():
    curves = [*BLOCK, CHILD, POOR]
    return [(f"g0-{i:03d}", 0, c, max(c)) for i, c in enumerate(curves)]


def test_reported_values_stop_a_child_as_good_as_the_best_and_held_ones_do_not():
    cfg = CladeConfig(pruner="median", pruner_warmup_epochs=1, pruner_startup_models=5)
    held = replay(_models(), cfg, RULES["held"])
    reported = replay(_models(), cfg, RULES["reported"])
    # both stop the poor child after epoch 2 (0.25 under the median 0.7 / 0.78)
    assert held["stopped"] == 1 and reported["stopped"] == 2
    # reported: the child misses 0.83 (the two long runs) at epoch 5 and trains 5 of 6
    total = sum(len(c) for c in [*BLOCK, CHILD, POOR])
    assert reported["saved"] == pytest.approx((2 + 1) / total)
    assert held["saved"] == pytest.approx(2 / total)
    # the top tier (20% of 7: one model) is a long run (0.83): neither stops it
    assert held["parents"] == reported["parents"] == 1
    assert held["parents_stopped"] == reported["parents_stopped"] == 0
    wider = cfg.updated(top_tier=0.5)  # 4 parents: both long runs, the child, 0.81
    assert replay(_models(), wider, RULES["held"])["parents_stopped"] == 0
    assert replay(_models(), wider, RULES["reported"])["parents_stopped"] == 1  # the child
    assert held["best_kept"] == reported["best_kept"] == held["best"] == pytest.approx(0.83)
