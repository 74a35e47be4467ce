"""A step budget makes runs repeatable: the same seed gives the same models and pick on a
loaded machine as on an idle one (wall-clock columns aside)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from dlgene_core import GAFC1, CladeConfig

CONFIG = {
    "population_size": 4,
    "generations": 2,
    "epochs": (2, 4),
    "nb_units": (4, 32),
    "nb_layers": (1, 2),
    "batch_size": (16, 64),
    "max_train_steps": 60,
    "max_train_time": 600.0,
    "pruner_startup_models": 2,
    "seed": 11,
}
WALL_CLOCK = ["train_time", "worker"]


def _run(folder) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    clade = GAFC1(CladeConfig(**CONFIG), data="digits", folder=folder)
    clade.evolve()
    genotypes = clade.all_genotypes.sort_values("model_id").reset_index(drop=True)
    phenotypes = clade.phenotypes.drop(columns=WALL_CLOCK).sort_values("model_id")
    return genotypes, phenotypes.reset_index(drop=True), list(clade.best(3)["model_id"])


@pytest.mark.slow
def test_same_seed_same_models_under_load(tmp_path) -> None:
    idle = _run(tmp_path / "idle")
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        loaded = _run(tmp_path / "loaded")
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    pd.testing.assert_frame_equal(idle[0], loaded[0])
    pd.testing.assert_frame_equal(idle[1], loaded[1])
    assert idle[2] == loaded[2]
    assert (idle[1]["batches_run"] <= 60).all()
    assert "timed_out" in set(idle[1]["status"])  # the step budget did stop some models
