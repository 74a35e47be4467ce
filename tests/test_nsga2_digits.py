"""An nsga2 run on digits: its Pareto front trades validation accuracy against size."""

from __future__ import annotations

import numpy as np
import pytest

from dlgene_core import GAFC1, CladeConfig
from dlgene_core.strategies.nsga2 import survivors

RUN = {
    "population_size": 6,
    "generations": 3,
    "strategy": "nsga2",
    "objectives": [["val_accuracy", "max"], ["n_params", "min"]],
    "nb_layers": (1, 2),
    "nb_units": (2, 64),
    "activations": ["relu"],
    "optimizers": ["adam"],
    "lr_ranges": {"sgd": (5e-3, 5e-3), "adaptive": (5e-3, 5e-3)},
    "batch_size": (64, 64),
    "epochs": (1, 2),
    "regularizer_chance": 0.0,
    "pruner": "none",
    "early_stopping_patience": 0,
    "max_train_time": 60.0,
    "seed": 5,
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    clade = GAFC1(CladeConfig(**RUN), data="digits", folder=tmp_path_factory.mktemp("nsga2"))
    clade.evolve()
    return clade


@pytest.mark.slow
def test_front_trades_accuracy_against_size(run) -> None:
    phenotypes = run.phenotypes
    assert len(phenotypes) == 18
    front = run.pareto()
    assert len(front) >= 2
    # best first by accuracy: each next member is less accurate and smaller
    accuracy = front["val_accuracy"].to_numpy()
    size = front["n_params"].to_numpy()
    assert (np.diff(accuracy) < 0).all() and (np.diff(size) < 0).all()
    # no usable model of the run beats a member on both objectives
    usable = phenotypes[phenotypes["status"].isin(["ok", "timed_out"])]
    for a, n in zip(accuracy, size, strict=True):
        better = usable[
            (usable["val_accuracy"] >= a)
            & (usable["n_params"] <= n)
            & ((usable["val_accuracy"] > a) | (usable["n_params"] < n))
        ]
        assert better.empty
    # best() puts the front first; its two ends (infinite crowding) lead
    assert set(run.best(len(front))["model_id"]) == set(front["model_id"])
    assert set(run.best(2)["model_id"]) == {front["model_id"].iloc[0], front["model_id"].iloc[-1]}


@pytest.mark.slow
def test_parents_are_tournament_winners_among_survivors(run) -> None:
    selections = run.selections()
    assert sorted(selections["generation"].unique()) == [0, 1]
    assert set(selections["reason"]) == {"tournament"}
    assert (selections.groupby("generation").size() == 6).all()
    for generation in (0, 1):
        kept = survivors(run.history(), run.config, generation)
        chosen = selections[selections["generation"] == generation]["model_id"]
        assert set(chosen) <= set(kept["model_id"])
    # generation 1's survivors are drawn from parents and children alike
    assert len(survivors(run.history(), run.config, 1)) == 6
    children = run.all_genotypes[run.all_genotypes["generation"] == 2]
    assert all(len(p) >= 1 for p in children["parents"])
