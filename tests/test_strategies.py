"""Search strategies on tables: the registry, aging tournaments, random spawns, dedup."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlgene_core import CladeConfig, population
from dlgene_core.dedup import canonical, known_forms, make_unique
from dlgene_core.families import get_family
from dlgene_core.operators import from_row, violations
from dlgene_core.strategies import History, get_strategy
from dlgene_core.strategies.aging import aging_window, tournament

FAMILY = get_family("GAFC1")


def _history(cfg: CladeConfig, generations: int, per_generation: int = 6) -> History:
    """Generations of spawned genotypes; val accuracy rises with generation and index."""
    genotypes = pd.concat(
        [population.spawn(FAMILY, cfg, g, per_generation) for g in range(generations)],
        ignore_index=True,
    )
    phenotypes = genotypes[["model_id", "generation"]].copy()
    phenotypes["status"] = "ok"
    phenotypes["val_accuracy"] = np.linspace(0.1, 0.9, len(phenotypes))
    phenotypes["val_loss"] = 1 - phenotypes["val_accuracy"]
    return History(genotypes, phenotypes)


def test_registry_names_and_error() -> None:
    assert [get_strategy(n).name for n in ("tiers", "aging", "random")] == [
        "tiers",
        "aging",
        "random",
    ]
    with pytest.raises(ValueError, match=r"strategy 'nsga'.*tiers, aging, random"):
        get_strategy("nsga")


def test_aging_window_is_the_last_population_size_models_across_generations() -> None:
    cfg = CladeConfig(population_size=8, strategy="aging")
    history = _history(cfg, 3)  # 18 models, g0-000 .. g2-005
    history.phenotypes.loc[history.phenotypes["model_id"] == "g2-005", "status"] = "failed"
    window = aging_window(history, cfg, 2)
    # g2-005 failed: not a member; the 8 youngest members are g1-003 .. g2-004
    assert list(window["model_id"]) == [
        *(f"g1-{i:03d}" for i in range(3, 6)),
        *(f"g2-{i:03d}" for i in range(5)),
    ]
    assert list(aging_window(history, cfg, 0)["model_id"]) == [f"g0-{i:03d}" for i in range(6)]


def test_tournament_winner_is_the_best_of_its_sample_and_pruned_models_lose() -> None:
    cfg = CladeConfig(population_size=6, sample_size=6, strategy="aging")
    window = aging_window(_history(cfg, 1), cfg, 0)
    winners = tournament(window, cfg, np.random.default_rng(0), 3)
    assert list(winners["model_id"]) == ["g0-005"] * 3  # sample = whole window
    window = window.copy()
    window.loc[window["model_id"] == "g0-005", "status"] = "pruned"
    assert set(tournament(window, cfg, np.random.default_rng(0), 3)["model_id"]) == {"g0-004"}
    small = cfg.updated(sample_size=2)
    picks = tournament(window, small, np.random.default_rng(1), 200)["model_id"]
    assert picks.nunique() > 2  # small samples let weaker models win sometimes
    assert "g0-005" not in set(picks)  # a pruned model loses every tournament of two


def test_aging_select_and_breed_mutate_every_child() -> None:
    cfg = CladeConfig(population_size=6, sample_size=3, strategy="aging", seed=4)
    history = _history(cfg, 2)
    strategy = get_strategy("aging")
    chosen = strategy.select(history, cfg, 1, population.step_rng(4, 1, population.SELECT))
    assert len(chosen) == 6 and set(chosen["reason"]) == {"tournament"}
    assert set(chosen["model_id"]) <= {f"g1-{i:03d}" for i in range(6)}
    genotypes = history.genotypes.set_index("model_id")
    pairs = [(m, from_row(FAMILY, genotypes.loc[m])) for m in chosen["model_id"]]
    children = strategy.breed(FAMILY, pairs, cfg, 2, 6, np.random.default_rng(0))
    assert list(children["model_id"]) == [f"g2-{i:03d}" for i in range(6)]
    for (_, child), (pid, _) in zip(children.iterrows(), pairs, strict=True):
        assert list(child["parents"]) == [pid] and len(child["mutations"]) >= 1
        assert violations(FAMILY, from_row(FAMILY, child), cfg) == []
    crossed = strategy.breed(
        FAMILY, pairs, cfg.updated(aging_crossover=1.0), 2, 6, np.random.default_rng(0)
    )
    assert any(len(p) == 2 for p in crossed["parents"])


def test_random_strategy_breeds_a_spawn_and_uses_picked_parents() -> None:
    cfg = CladeConfig(population_size=5, strategy="random", seed=2)
    strategy = get_strategy("random")
    assert not strategy.needs_parents
    rng = population.step_rng(2, 3, population.SPAWN)
    children = strategy.breed(FAMILY, [], cfg, 3, 5, rng)
    pd.testing.assert_frame_equal(children, population.spawn(FAMILY, cfg, 3))
    history = _history(cfg, 1, 5)
    pairs = [
        (m, from_row(FAMILY, r)) for m, r in history.genotypes.set_index("model_id").iterrows()
    ]
    bred = strategy.breed(FAMILY, pairs[:2], cfg, 1, 4, np.random.default_rng(0))
    assert all(set(p) <= {"g0-000", "g0-001"} and p for p in bred["parents"])


def test_ask_returns_n_children_with_parents() -> None:
    cfg = CladeConfig(population_size=6, strategy="aging", seed=5)
    history = _history(cfg, 1)
    rows = history.genotypes.set_index("model_id")
    for name in ("tiers", "aging", "random"):
        table = get_strategy(name).ask(
            FAMILY,
            history,
            cfg,
            1,
            1,
            lambda step: population.step_rng(5, 1, step),
            lambda m: from_row(FAMILY, rows.loc[m]),
        )
        assert len(table) == 1 and table["generation"].iloc[0] == 1
        assert (len(table["parents"].iloc[0]) > 0) == (name != "random")


# ---------------------------------------------------------------------- dedup
TINY_SPACE = {
    "nb_layers": (1, 1),
    "nb_units": (2, 3),
    "activations": ["relu"],
    "optimizers": ["adam"],
    "lr_bins": [(1e-3, 1e-3)],
    "lr_ranges": {},  # one fixed rate: the bins decide
    "batch_size": (8, 9),
    "epochs": (1, 2),
    "regularizer_chance": 0.0,
    "population_size": 12,
}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), mutate_prob=st.sampled_from([0.0, 0.2, 1.0]))
def test_make_unique_leaves_no_repeat_untagged(seed: int, mutate_prob: float) -> None:
    """No two children that will be trained share a genotype, nor repeat a known model; a
    child left as a duplicate names a model with its exact genotype."""
    cfg = CladeConfig(**TINY_SPACE, seed=seed, mutate_prob=mutate_prob)
    g0 = population.spawn(FAMILY, cfg, 0)
    g0 = make_unique(FAMILY, g0, {}, cfg, np.random.default_rng(seed))
    known = known_forms(FAMILY, g0[g0["duplicate_of"] == ""])
    pairs = [(m, from_row(FAMILY, r)) for m, r in g0.set_index("model_id").iterrows()][:3]
    children = population.breed(FAMILY, pairs, cfg, 1)
    unique = make_unique(FAMILY, children, known, cfg, np.random.default_rng(seed))
    forms = {**{f: m for f, m in known.items()}}
    trained = []
    for _, row in unique.iterrows():
        form = canonical(FAMILY, from_row(FAMILY, row))
        assert violations(FAMILY, from_row(FAMILY, row), cfg) == []
        if row["duplicate_of"]:
            assert forms[form] == row["duplicate_of"]
        else:
            assert form not in forms
            forms[form] = row["model_id"]
            trained.append(form)
    assert len(trained) == len(set(trained))
    # the tiny space has 2 units x 2 batch sizes x 2 epochs = 8 genotypes: 12 + 12 repeat
    assert (unique["duplicate_of"] != "").sum() + (g0["duplicate_of"] != "").sum() >= 16


def test_make_unique_keeps_new_children_untouched() -> None:
    cfg = CladeConfig(population_size=6, seed=3)
    g0 = population.spawn(FAMILY, cfg, 0)
    unique = make_unique(FAMILY, g0, {}, cfg, np.random.default_rng(0))
    pd.testing.assert_frame_equal(unique.drop(columns="duplicate_of"), g0)
    assert list(unique["duplicate_of"]) == [""] * 6


def test_canonical_rounds_floats_and_ignores_ids() -> None:
    cfg = CladeConfig(population_size=2)
    genotype = from_row(FAMILY, population.spawn(FAMILY, cfg, 0).iloc[0])
    nudged = dict(genotype, learning_rate=genotype["learning_rate"] * (1 + 1e-9))
    assert canonical(FAMILY, genotype) == canonical(FAMILY, nudged)
    moved = dict(genotype, learning_rate=genotype["learning_rate"] * 1.01)
    assert canonical(FAMILY, genotype) != canonical(FAMILY, moved)
