"""The nsga2 strategy on tables: elitist survivors across generations, binary tournaments
on (front, crowding), children of two winners."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlgene_core import CladeConfig, CladeStateError, population
from dlgene_core.families import get_family
from dlgene_core.operators import from_row
from dlgene_core.pareto import non_dominated_sort
from dlgene_core.strategies import History, get_strategy
from dlgene_core.strategies.nsga2 import binary_tournament, survivors

FAMILY = get_family("GAFC1")
TWO = [["val_accuracy", "max"], ["n_params", "min"]]


def _history(cfg: CladeConfig, generations: int, per_generation: int = 6) -> History:
    """Spawned genotypes with made-up results: accuracy and size both rise with the index
    inside a generation (a trade-off), and generation 0 is the best at every size."""
    genotypes = pd.concat(
        [population.spawn(FAMILY, cfg, g, per_generation) for g in range(generations)],
        ignore_index=True,
    )
    phenotypes = genotypes[["model_id", "generation"]].copy()
    index = np.tile(np.arange(per_generation), generations)
    phenotypes["status"] = "ok"
    phenotypes["val_accuracy"] = 0.5 + 0.05 * index - 0.1 * phenotypes["generation"]
    phenotypes["val_loss"] = 1 - phenotypes["val_accuracy"]
    phenotypes["n_params"] = 100 * (index + 1)
    return History(genotypes, phenotypes)


def test_registered_as_nsga2() -> None:
    assert get_strategy("nsga2").name == "nsga2"
    assert CladeConfig(strategy="nsga2").strategy == "nsga2"


def test_survivors_are_the_best_fronts_across_generations() -> None:
    cfg = CladeConfig(population_size=6, strategy="nsga2", objectives=TWO)
    history = _history(cfg, 3)
    kept = survivors(history, cfg, 2)
    # generation 0 dominates the later ones at every size: it survives whole (elitism)
    assert sorted(kept["model_id"]) == [f"g0-{i:03d}" for i in range(6)]
    assert set(kept["front"]) == {0}
    # ends of the front first (infinite crowding), then the others by model id (equal gaps)
    assert list(kept["model_id"])[:2] == ["g0-000", "g0-005"]
    # a failed model never survives; only models up to the generation count
    history.phenotypes.loc[history.phenotypes["model_id"] == "g0-000", "status"] = "failed"
    assert "g0-000" not in set(survivors(history, cfg, 2)["model_id"])
    assert set(survivors(history, cfg, 0)["generation"]) == {0}


def test_binary_tournament_prefers_lower_front_then_crowding_then_usable() -> None:
    pool = pd.DataFrame(
        {
            "model_id": ["a", "b", "c"],
            "status": ["ok", "ok", "pruned"],
            "front": [1, 0, 0],
            "crowding": [np.inf, 0.5, np.inf],
        }
    )
    winners = binary_tournament(pool, 200, np.random.default_rng(0))
    counts = winners["model_id"].value_counts()
    # b beats a (front) and c (pruned); a beats c; c never wins a pair
    assert counts["b"] == pytest.approx(200 * 2 / 3, abs=25)
    assert "c" not in counts
    ties = pool.assign(front=0, status="ok")
    assert set(binary_tournament(ties, 50, np.random.default_rng(1))["model_id"]) <= {"a", "c"}


def test_select_and_breed_give_children_of_tournament_winners() -> None:
    cfg = CladeConfig(population_size=6, strategy="nsga2", objectives=TWO, mutate_prob=0.0)
    history = _history(cfg, 2)
    strategy = get_strategy("nsga2")
    chosen = strategy.select(history, cfg, 1, np.random.default_rng(3))
    assert len(chosen) == 6 and set(chosen["reason"]) == {"tournament"}
    assert set(chosen["model_id"]) <= set(survivors(history, cfg, 1)["model_id"])
    assert list(chosen["metric"].unique()) == ["val_accuracy"]
    genotypes = history.genotypes.set_index("model_id")
    pairs = [(m, from_row(FAMILY, genotypes.loc[m])) for m in chosen["model_id"]]
    children = strategy.breed(FAMILY, pairs, cfg, 2, 6, np.random.default_rng(4))
    assert list(children["model_id"]) == [f"g2-{i:03d}" for i in range(6)]
    for i, parents in enumerate(children["parents"]):
        expected = list(dict.fromkeys([pairs[2 * i % 6][0], pairs[(2 * i + 1) % 6][0]]))
        assert list(parents) == expected
    for parents, mutations in zip(children["parents"], children["mutations"], strict=True):
        assert (len(mutations) > 0) == (len(parents) == 1)  # mutate_prob 0: clones only


def test_select_needs_a_finished_model() -> None:
    cfg = CladeConfig(population_size=6, strategy="nsga2", objectives=TWO)
    history = _history(cfg, 1)
    history.phenotypes["status"] = "failed"
    with pytest.raises(CladeStateError, match=r"\(val_accuracy, n_params\); nsga2"):
        get_strategy("nsga2").select(history, cfg, 0, np.random.default_rng(0))


def test_one_objective_survivors_are_the_top_by_the_metric() -> None:
    cfg = CladeConfig(population_size=4, strategy="nsga2")
    history = _history(cfg, 2)
    kept = survivors(history, cfg, 1)
    top = population.rank(history.phenotypes, "val_accuracy").head(4)
    assert list(kept["model_id"]) == list(top["model_id"])
    values = history.phenotypes[["val_accuracy"]].to_numpy()
    assert len(non_dominated_sort(values, ["max"])[0]) == 1


def test_tiers_top_tier_follows_the_objectives() -> None:
    from dlgene_core.strategies.tiers import select_tiers

    one = CladeConfig(population_size=6, top_tier=0.34, random_tier=0.0)
    history = _history(one, 1)
    top = select_tiers(history.phenotypes, one, 0)
    assert list(top["model_id"]) == ["g0-005", "g0-004"]  # the most accurate
    two = one.updated(objectives=TWO)
    # every model is on the front (accuracy and size rise together): its two ends lead
    top = select_tiers(history.phenotypes, two, 0)
    assert list(top["model_id"]) == ["g0-000", "g0-005"]
    assert set(top["metric"]) == {"val_accuracy"}


def test_ask_gives_one_child_for_a_steady_state_loop() -> None:
    cfg = CladeConfig(population_size=6, strategy="nsga2", objectives=TWO)
    history = _history(cfg, 2)
    genotypes = history.genotypes.set_index("model_id")
    child = get_strategy("nsga2").ask(
        FAMILY,
        history,
        cfg,
        2,
        1,
        lambda step: np.random.default_rng([7, step]),
        lambda m: from_row(FAMILY, genotypes.loc[m]),
    )
    assert len(child) == 1
    assert set(child["parents"].iloc[0]) <= set(survivors(history, cfg, 1)["model_id"])
