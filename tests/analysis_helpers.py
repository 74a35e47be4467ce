"""A small run without training: real genotypes (spawned) with made-up phenotypes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlgene_core import GAFC1, CladeConfig
from dlgene_core.records import PHENOTYPE_COLUMNS


def fake_run(folder, n: int = 8, generations: int = 2, objectives=None, statuses=None):
    """A clade with ``generations`` x ``n`` genotypes and phenotypes: val_accuracy rises
    with n_params (so the front trades them), one model per generation failed."""
    cfg = CladeConfig(population_size=n, seed=5).updated(nb_units=(8, 64), nb_layers=(1, 3))
    if objectives:
        cfg = cfg.updated(objectives=objectives)
    clade = GAFC1(cfg, data="digits", folder=folder)
    clade.spawn()
    first = clade.genotypes
    tables = [first]
    for g in range(1, generations):
        rows = first.copy()
        rows["generation"] = g
        rows["model_id"] = [f"g{g}-{i:03d}" for i in range(n)]
        tables.append(rows)
    clade._all_genotypes = pd.concat(tables, ignore_index=True)
    rng = np.random.default_rng(0)
    records = []
    for table in tables:
        for i, mid in enumerate(table["model_id"]):
            row = {c: float("nan") for c in PHENOTYPE_COLUMNS}
            status = statuses[i] if statuses else ("failed" if i == n - 1 else "ok")
            size = float(1000 * (i + 1) + rng.integers(0, 500))
            row.update(
                model_id=mid,
                generation=int(table["generation"].iloc[0]),
                kind="GAFC1",
                status=status,
                reason="",
                n_params=size,
                train_time=float(rng.uniform(1, 10)),
            )
            if status != "failed":
                row.update(
                    val_accuracy=0.5 + 0.04 * i + 0.01 * rng.random(),
                    val_loss=1.0 - 0.05 * i,
                    test_accuracy=0.5,
                )
            records.append(row)
    clade.phenotypes = pd.DataFrame(records)
    return clade
