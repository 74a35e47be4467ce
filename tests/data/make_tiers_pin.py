"""Writes tests/data/tiers_pin.json: spawn/select/breed genotypes of the pre-strategy code.

Run once, from the repo root, on commit ac6cba0 (before the strategies package existed).
"""

import json
from pathlib import Path

import numpy as np

from dlgene_core import CladeConfig, population
from dlgene_core.families import get_family
from dlgene_core.operators import from_row


def plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list | tuple | np.ndarray):
        return [plain(x) for x in v]
    return v


def records(df):
    return [{k: plain(v) for k, v in r.items()} for r in df.to_dict(orient="records")]


out = {"cases": []}
for kind in ("GAFC1", "GACNN1", "GARNN1"):
    for seed in (0, 7):
        cfg = CladeConfig(kind=kind, seed=seed, population_size=12)
        fam = get_family(kind)
        g0 = population.spawn(fam, cfg, 0)
        rng = np.random.default_rng([seed, 99])
        ph = g0[["model_id", "generation"]].copy()
        ph["status"] = "ok"
        ph["val_accuracy"] = rng.random(len(ph))
        ph["val_loss"] = rng.random(len(ph))
        sel = population.select_parents(ph, cfg, 0)
        pairs = [(m, from_row(fam, g0[g0.model_id == m].iloc[0])) for m in sel["model_id"]]
        g1 = population.breed(fam, pairs, cfg, 1)
        out["cases"].append(
            {
                "config": json.dumps(cfg.to_dict()),  # a string: keeps the regularizers order
                "val_accuracy": ph["val_accuracy"].tolist(),
                "val_loss": ph["val_loss"].tolist(),
                "spawn": records(g0),
                "select": records(sel),
                "breed": records(g1),
            }
        )
Path("tests/data/tiers_pin.json").write_text(json.dumps(out, sort_keys=True) + "\n")
