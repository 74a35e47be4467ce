"""Genetic operators: property tests (hypothesis) that children stay inside the search space."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlgene_core import CladeConfig
from dlgene_core.families import get_family
from dlgene_core.operators import (
    conform,
    crossover,
    from_row,
    mutate,
    random_genotype,
    to_row,
    violations,
)
from dlgene_core.population import breed, spawn
from dlgene_core.storage import ExperimentFolder

FAMILY = get_family("GAFC1")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def int_range(draw, low: int, high: int) -> tuple[int, int]:
    a = draw(st.integers(low, high))
    b = draw(st.integers(low, high))
    return (min(a, b), max(a, b))


@st.composite
def configs(draw) -> CladeConfig:
    """Valid configs, narrowed in every direction a user may narrow them."""
    kinds = draw(st.lists(st.sampled_from(["l1", "l2", "dropout"]), min_size=1, unique=True))
    weights = [draw(st.integers(1, 5)) for _ in kinds]
    bins = draw(
        st.lists(
            st.tuples(st.floats(1e-5, 0.5), st.floats(1e-5, 0.5)).map(lambda t: tuple(sorted(t))),
            min_size=1,
            max_size=3,
        )
    )
    return CladeConfig(
        seed=draw(st.integers(0, 2**31 - 1)),
        nb_layers=draw(int_range(1, 6)),
        nb_units=draw(int_range(1, 600)),
        batch_size=draw(int_range(1, 1024)),
        epochs=draw(int_range(1, 30)),
        lr_bins=bins,
        activations=draw(
            st.lists(st.sampled_from(CladeConfig().activations), min_size=1, unique=True)
        ),
        optimizers=draw(
            st.lists(st.sampled_from(CladeConfig().optimizers), min_size=1, unique=True)
        ),
        regularizer_chance=draw(st.sampled_from([0.0, 0.3, 1.0])),
        regularizers={k: w / sum(weights) for k, w in zip(kinds, weights, strict=True)},
        max_mutations=draw(st.integers(1, 4)),
        mutate_prob=draw(st.sampled_from([0.0, 0.2, 1.0])),
    )


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@SETTINGS
@given(configs(), st.integers(0, 10_000))
def test_random_genotypes_are_inside(cfg, seed) -> None:
    genotype = random_genotype(FAMILY, cfg, _rng(seed))
    assert violations(FAMILY, genotype, cfg) == []
    low, high = cfg.nb_layers
    assert low <= len(genotype["layers"]) <= high
    for block in genotype["layers"]:
        if block["regularizer"] == "none":
            assert block["reg_value"] == 0.0
        else:
            assert block["regularizer"] in cfg.regularizers


@SETTINGS
@given(configs(), st.integers(0, 10_000))
def test_crossover_keeps_blocks_whole(cfg, seed) -> None:
    rng = _rng(seed)
    mother, father = random_genotype(FAMILY, cfg, rng), random_genotype(FAMILY, cfg, rng)
    child = crossover(FAMILY, mother, father, cfg, rng)
    assert violations(FAMILY, child, cfg) == []
    parent_blocks = mother["layers"] + father["layers"]
    for block in child["layers"]:
        assert block in parent_blocks  # every layer is a whole layer of a parent
    for field in ("optimizer", "learning_rate", "batch_size", "epochs"):
        assert child[field] in (mother[field], father[field])
    # the child's blocks are copies: editing them leaves the parents alone
    before = [dict(b) for b in parent_blocks]
    for block in child["layers"]:
        block["units"] = -1
    assert mother["layers"] + father["layers"] == before


def test_crossover_is_one_point() -> None:
    """Without count repair the child is the mother's first blocks + the father's last ones."""
    cfg = CladeConfig(nb_layers=(1, 12))
    rng = _rng(5)
    for _ in range(30):
        mother = random_genotype(FAMILY, cfg, rng)
        father = random_genotype(FAMILY, cfg, rng)
        child = crossover(FAMILY, mother, father, cfg, rng)
        layers = child["layers"]
        if not 1 < len(layers) < 12:
            continue  # count repair touched it (0 blocks -> 1, over 12 -> 12)
        ok = any(
            layers == mother["layers"][:i] + father["layers"][len(father["layers"]) - j :]
            for i in range(len(mother["layers"]) + 1)
            for j in range(len(father["layers"]) + 1)
            if i + j == len(layers)
        )
        assert ok


@SETTINGS
@given(configs(), st.integers(0, 10_000), st.integers(1, 5))
def test_mutants_are_inside(cfg, seed, n) -> None:
    rng = _rng(seed)
    genotype = random_genotype(FAMILY, cfg, rng)
    mutant, done = mutate(FAMILY, genotype, cfg, rng, n)
    assert len(done) == n
    assert violations(FAMILY, mutant, cfg) == []


@SETTINGS
@given(configs(), st.integers(0, 10_000))
def test_nb_layers_mutation_adds_or_removes_a_layer(cfg, seed) -> None:
    rng = _rng(seed)
    genotype = random_genotype(FAMILY, cfg, rng)
    mutant, (what,) = mutate(FAMILY, genotype, cfg, rng, 1)
    before, after = genotype["layers"], mutant["layers"]
    if what.startswith("+layers["):
        at = int(what[len("+layers[") : -1])
        assert len(after) == len(before) + 1
        assert after[:at] + after[at + 1 :] == before
    elif what.startswith("-layers["):
        at = int(what[len("-layers[") : -1])
        assert len(after) == len(before) - 1
        assert before[:at] + before[at + 1 :] == after
    else:
        assert len(after) == len(before)


def test_nb_layers_mutation_happens_both_ways() -> None:
    cfg = CladeConfig(nb_layers=(1, 12))
    rng = _rng(11)
    seen = {"+": 0, "-": 0}
    for _ in range(300):
        genotype = random_genotype(FAMILY, cfg, rng)
        mutant, (what,) = mutate(FAMILY, genotype, cfg, rng, 1)
        if what[0] in seen:
            seen[what[0]] += 1
            delta = 1 if what[0] == "+" else -1
            assert len(mutant["layers"]) == len(genotype["layers"]) + delta
    assert seen["+"] > 5 and seen["-"] > 5
    # at the bounds only the legal direction is offered
    one = CladeConfig(nb_layers=(1, 1))
    for _ in range(50):
        mutant, (what,) = mutate(FAMILY, random_genotype(FAMILY, one, rng), one, rng, 1)
        assert not what.startswith(("+", "-")) and len(mutant["layers"]) == 1


@SETTINGS
@given(configs(), configs(), st.integers(0, 10_000))
def test_conform_fixes_children_after_narrowing(wide, narrow, seed) -> None:
    rng = _rng(seed)
    genotype = random_genotype(FAMILY, wide, rng)
    fixed = conform(FAMILY, genotype, narrow, rng)
    assert violations(FAMILY, fixed, narrow) == []
    if violations(FAMILY, genotype, narrow) == []:
        assert fixed == genotype  # nothing to fix: nothing changes


def test_conform_after_a_real_narrowing() -> None:
    wide = CladeConfig(nb_layers=(6, 12), nb_units=(100, 512), activations=["tanh"])
    narrow = wide.updated(nb_layers=(1, 3), nb_units=(2, 16), activations=["relu"])
    genotype = random_genotype(FAMILY, wide, _rng(0))
    problems = violations(FAMILY, genotype, narrow)
    assert any("3 blocks" not in p and "layers:" in p for p in problems)
    assert any("units" in p for p in problems)
    fixed = conform(FAMILY, genotype, narrow, _rng(1))
    assert violations(FAMILY, fixed, narrow) == []
    assert len(fixed["layers"]) == 3
    assert all(b["activation"] == "relu" and 2 <= b["units"] <= 16 for b in fixed["layers"])


@SETTINGS
@given(configs(), st.integers(1, 6))
def test_breed_children_are_inside(cfg, n_parents) -> None:
    parents = spawn(FAMILY, cfg, 0, n=n_parents)
    pairs = [(r["model_id"], from_row(FAMILY, r)) for _, r in parents.iterrows()]
    children = breed(FAMILY, pairs, cfg, 1, n=8)
    assert list(children["model_id"]) == [f"g1-{i:03d}" for i in range(8)]
    for _, row in children.iterrows():
        assert violations(FAMILY, from_row(FAMILY, row), cfg) == []
        assert set(row["parents"]) <= {pid for pid, _ in pairs}
        assert len(row["parents"]) == min(2, n_parents)
        if n_parents == 1:
            assert len(row["mutations"]) >= 1  # a lone parent's clone is always mutated


def test_violations_report_what_is_wrong() -> None:
    cfg = CladeConfig(nb_units=(2, 8), nb_layers=(1, 2))
    genotype = random_genotype(FAMILY, cfg, _rng(0))
    genotype["layers"] = genotype["layers"][:1] * 3
    genotype["layers"][0] = {**genotype["layers"][0], "units": 99}
    genotype["optimizer"] = "lbfgs"
    del genotype["epochs"]
    problems = violations(FAMILY, genotype, cfg)
    text = "\n".join(problems)
    assert "3 blocks, allowed 1..2" in text
    assert "99" in text
    assert "lbfgs" in text
    assert "missing gene ['epochs']" in text


@SETTINGS
@given(configs(), st.integers(0, 10_000))
def test_row_round_trip(cfg, seed) -> None:
    genotype = random_genotype(FAMILY, cfg, _rng(seed))
    row = to_row(FAMILY, genotype)
    assert row["nb_layers"] == len(genotype["layers"])
    assert row["layers_units"] == [b["units"] for b in genotype["layers"]]
    assert from_row(FAMILY, row) == genotype


def test_row_round_trip_through_parquet(tmp_path) -> None:
    cfg = CladeConfig(seed=4, regularizer_chance=1.0)
    table = spawn(FAMILY, cfg, 0, n=6)
    store = ExperimentFolder(tmp_path).ensure()
    store.write_table("genotypes", table)
    back = store.read_table("genotypes")
    for (_, a), (_, b) in zip(table.iterrows(), back.iterrows(), strict=True):
        ga, gb = from_row(FAMILY, a), from_row(FAMILY, b)
        assert ga == gb
        assert type(gb["layers"][0]["units"]) is int
        assert type(gb["learning_rate"]) is float


def test_same_seed_same_tables_different_seed_different() -> None:
    cfg = CladeConfig(seed=7, population_size=10)
    a, b = spawn(FAMILY, cfg, 0), spawn(FAMILY, cfg.copy(), 0)
    pd.testing.assert_frame_equal(a, b)
    c = spawn(FAMILY, cfg.updated(seed=8), 0)
    assert not a.drop(columns=["model_id"]).equals(c.drop(columns=["model_id"]))
    assert not a.equals(spawn(FAMILY, cfg, 1).assign(model_id=a["model_id"], generation=0))
    pairs = [(r["model_id"], from_row(FAMILY, r)) for _, r in a.head(4).iterrows()]
    pd.testing.assert_frame_equal(breed(FAMILY, pairs, cfg, 1), breed(FAMILY, pairs, cfg, 1))
    assert not breed(FAMILY, pairs, cfg, 1).equals(breed(FAMILY, pairs, cfg.updated(seed=9), 1))
