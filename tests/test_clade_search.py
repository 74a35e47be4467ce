"""A clade with the aging strategy, the median pruner, early stopping and a tiny space that
forces repeats: no genotype trained twice, duplicates copy results, resume has nothing left."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dlgene_core import GAFC1, Clade, CladeConfig, CladeStateError
from dlgene_core.dedup import canonical
from dlgene_core.families import get_family
from dlgene_core.operators import from_row

FAMILY = get_family("GAFC1")
# 2 unit counts x 2 batch sizes x 2 epoch counts = 8 genotypes for 18 models
TINY_SPACE = {
    "population_size": 6,
    "generations": 3,
    "nb_layers": (1, 1),
    "nb_units": (4, 5),
    "activations": ["relu"],
    "optimizers": ["adam"],
    "lr_bins": [(5e-3, 5e-3)],
    "lr_ranges": {},  # one fixed rate: the bins decide
    "batch_size": (64, 65),
    "epochs": (2, 3),
    "regularizer_chance": 0.0,
    "max_train_time": 60.0,
    "seed": 3,
    "strategy": "aging",
    "sample_size": 3,
    "pruner": "median",
    "pruner_startup_models": 2,
    "pruner_warmup_epochs": 1,
    "early_stopping_patience": 1,
}


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search") / "run"
    clade = GAFC1(CladeConfig(**TINY_SPACE), data="digits", folder=folder)
    clade.evolve()
    return clade


def test_no_genotype_trained_twice(searched) -> None:
    genotypes = searched.all_genotypes.set_index("model_id")
    phenotypes = searched.phenotypes.set_index("model_id")
    assert len(phenotypes) == 18
    trained = phenotypes[phenotypes["status"] != "duplicate"]
    forms = [canonical(FAMILY, from_row(FAMILY, genotypes.loc[m])) for m in trained.index]
    assert len(forms) == len(set(forms)) == 8  # the whole space, each genotype once
    duplicates = phenotypes[phenotypes["status"] == "duplicate"]
    assert len(duplicates) == 10
    for model_id, row in duplicates.iterrows():
        original = row["duplicate_of"]
        assert genotypes.loc[model_id, "duplicate_of"] == original
        assert canonical(FAMILY, from_row(FAMILY, genotypes.loc[model_id])) == canonical(
            FAMILY, from_row(FAMILY, genotypes.loc[original])
        )
        for key in ("val_accuracy", "test_accuracy", "epochs_run"):
            assert row[key] == phenotypes.loc[original, key]
        assert row["train_time"] == 0.0 and original in row["reason"]


def test_aging_parents_come_from_earlier_generations(searched) -> None:
    selections = searched.store.read_table("selections")
    assert set(selections["reason"]) == {"tournament"}
    assert len(selections[selections["generation"] == 1]) == 6
    # the window spans generations: generation 1's tournament may pick generation 0 models
    lineage = searched.lineage()
    assert set(lineage["generation"]) == {1, 2}


def test_pruner_thresholds_and_early_stopping_recorded(searched) -> None:
    thresholds = searched._prune_thresholds()
    assert len(thresholds) == 3 and math.isnan(thresholds[0]) and math.isfinite(thresholds[1])
    phenotypes = searched.phenotypes
    trained = phenotypes[phenotypes["status"].isin(["ok", "pruned", "timed_out"])]
    assert (trained["best_epoch"] <= trained["epochs_run"]).all()
    genotypes = searched.all_genotypes.set_index("model_id")
    for _, row in phenotypes[phenotypes["status"] == "pruned"].iterrows():
        assert row["epochs_run"] < genotypes.loc[row["model_id"], "epochs"]


def test_reopened_clade_has_nothing_left_to_grow(searched) -> None:
    reopened = Clade.open(searched.store.path)
    assert reopened.jobs() == []
    assert reopened.generation == 2
    pd.testing.assert_frame_equal(
        reopened.phenotypes.sort_values("model_id").reset_index(drop=True)[["model_id", "status"]],
        searched.phenotypes.sort_values("model_id").reset_index(drop=True)[["model_id", "status"]],
    )


def test_hand_picked_parents_work_with_every_strategy(tmp_path) -> None:
    for name in ("aging", "random", "tiers"):
        cfg = CladeConfig(**{**TINY_SPACE, "strategy": name, "generations": 1, "pruner": "none"})
        clade = GAFC1(cfg.updated(population_size=3), data="digits", folder=tmp_path / name)
        clade.evolve()
        picked = clade.select_parents(model_ids=["g0-002", "g0-000"])
        assert list(picked["reason"]) == ["manual", "manual"]
        children = clade.breed()
        parents = {p for ps in children["parents"] for p in ps}
        assert parents and parents <= {"g0-002", "g0-000"}, name
        if name != "tiers":
            with pytest.raises(ValueError, match="top_tier/random_tier apply to strategy"):
                clade.preview_parents(top_tier=0.5)
    with pytest.raises(CladeStateError, match="no parents selected"):
        GAFC1(cfg.updated(population_size=3), data="digits", folder=tmp_path / "x").breed()
