"""The tiers strategy keeps the pre-strategy genotypes exactly (pinned from commit ac6cba0).

tests/data/tiers_pin.json was written by tests/data/make_tiers_pin.py on the code before the
search strategies moved out of population.py: spawn, select_parents and breed for three
kinds and two seeds, with each case's full config.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlgene_core import CladeConfig, population
from dlgene_core.families import get_family
from dlgene_core.operators import from_row

PIN = json.loads((Path(__file__).parent / "data" / "tiers_pin.json").read_text())


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]


def _dumps(rows: list[dict]) -> str:
    return json.dumps(rows, sort_keys=True)


@pytest.mark.parametrize(
    "case", PIN["cases"], ids=lambda c: "{kind}-s{seed}".format(**json.loads(c["config"]))
)
def test_spawn_select_breed_match_the_pinned_genotypes(case: dict) -> None:
    # the pinned configs predate presets: what they lack is the classic preset's
    cfg = CladeConfig.from_preset("classic").updated(**json.loads(case["config"]))
    family = get_family(cfg.kind)
    g0 = population.spawn(family, cfg, 0)
    assert _dumps(_records(g0)) == _dumps(case["spawn"])
    phenotypes = g0[["model_id", "generation"]].copy()
    phenotypes["status"] = "ok"
    phenotypes["val_accuracy"] = case["val_accuracy"]
    phenotypes["val_loss"] = case["val_loss"]
    chosen = population.select_parents(phenotypes, cfg, 0)
    assert _dumps(_records(chosen)) == _dumps(case["select"])
    pairs = [(m, from_row(family, g0[g0.model_id == m].iloc[0])) for m in chosen["model_id"]]
    g1 = population.breed(family, pairs, cfg, 1)
    assert _dumps(_records(g1)) == _dumps(case["breed"])


@pytest.mark.parametrize("case", PIN["cases"][:2], ids=["s0", "s7"])
def test_classic_preset_is_the_pre_preset_default_config(case: dict) -> None:
    """Every field the old config had keeps its old default in the classic preset."""
    old = json.loads(case["config"])
    classic = CladeConfig.from_preset("classic", seed=old["seed"], population_size=12)
    assert {k: v for k, v in classic.to_dict().items() if k in old} == old
    assert list(classic.regularizers) == list(old["regularizers"])  # draw order too
