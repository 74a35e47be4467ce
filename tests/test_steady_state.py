"""Steady-state evolution: a child is bred whenever a result comes back (aging's default),
generations are blocks of population_size children, a stopped run resumes mid-stream
without training any model twice, and in process the same seed gives the same run."""

from __future__ import annotations

import pandas as pd
import pytest

from dlgene_core import Clade, CladeConfig, clade_class

SMALL = {
    "population_size": 4,
    "strategy": "aging",
    "sample_size": 2,
    "epochs": (1, 2),
    "nb_layers": (1, 2),
    "nb_units": (4, 16),
    "batch_size": (16, 64),
    "max_train_time": 30.0,
}


def _clade(folder, **changes) -> Clade:
    cfg = CladeConfig().updated(**{**SMALL, **changes})
    return clade_class("GAFC1")(cfg, data="wine", folder=folder)


def _genes(clade: Clade) -> pd.DataFrame:
    table = clade.all_genotypes.drop(columns=["parents", "mutations"], errors="ignore")
    return table.sort_values("model_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def steady(tmp_path_factory):
    clade = _clade(tmp_path_factory.mktemp("steady") / "run")
    assert clade.evolution_mode == "steady"  # 'auto' + aging
    clade.evolve(generations=3)
    return clade


def test_blocks_of_population_size_children(steady):
    table = steady.all_genotypes
    assert list(table["model_id"]) == [f"g{g}-{i:03d}" for g in range(3) for i in range(4)]
    assert list(table["generation"]) == [g for g in range(3) for _ in range(4)]
    ph = steady.phenotypes.set_index("model_id")
    assert sorted(ph.index) == sorted(table["model_id"])
    assert set(ph["status"]) <= {"ok", "timed_out", "pruned", "duplicate", "diverged"}
    assert steady.generation == 2 and steady.progress == (4, 4)


def test_children_after_the_first_block_come_from_tournaments(steady):
    table = steady.all_genotypes.set_index("model_id")
    assert all(len(p) == 0 for p in table.loc[[f"g0-{i:03d}" for i in range(4)], "parents"])
    later = table[table["generation"] > 0]
    assert all(len(p) >= 1 for p in later["parents"])
    lineage = steady.lineage()
    assert set(lineage["child_id"]) == set(later.index)
    # a parent was finished when its child was bred: it is an earlier model
    order = {mid: i for i, mid in enumerate(steady.all_genotypes["model_id"])}
    assert all(order[r.parent_id] < order[r.child_id] for r in lineage.itertuples())


def test_same_seed_same_run_in_process(steady, tmp_path):
    again = _clade(tmp_path / "again")
    again.evolve(generations=3)
    pd.testing.assert_frame_equal(_genes(again), _genes(steady))


def test_stopped_run_resumes_mid_stream_without_training_twice(tmp_path):
    clade = _clade(tmp_path / "run")
    results: list[str] = []

    def stop_after_five(event):
        if event["event"] == "result":
            results.append(event["model_id"])
            if len(results) == 5:
                clade.stop()

    clade.add_listener(stop_after_five)
    clade.evolve(generations=3)
    first = clade.phenotypes.set_index("model_id")
    assert 5 <= len(first) < 12
    reopened = Clade.open(tmp_path / "run")
    reopened.evolve(generations=3)
    table = reopened.phenotypes.set_index("model_id")
    assert len(table) == 12 and len(reopened.all_genotypes) == 12
    for mid in first.index:  # finished before the stop: kept, not trained again
        assert table.loc[mid, "train_time"] == first.loc[mid, "train_time"]


def test_generational_mode_still_available_for_aging(tmp_path):
    clade = _clade(tmp_path / "gen", evolution="generational")
    assert clade.evolution_mode == "generational"
    clade.evolve(generations=2)
    assert len(clade.phenotypes) == 8 and clade.generation == 1


@pytest.mark.slow
def test_steady_state_on_a_pool_keeps_both_workers_busy(pool, tmp_path):
    clade = _clade(tmp_path / "pool")
    starts: list[str] = []
    running: set[str] = set()
    most = [0]

    def watch(event):
        if event["event"] == "start":
            starts.append(event["model_id"])
            running.add(event["model_id"])
            most[0] = max(most[0], len(running))
        elif event["event"] == "result":
            running.discard(event["model_id"])

    clade.add_listener(watch)
    clade.evolve(generations=3, executor=pool)
    assert len(clade.phenotypes) == 12 and most[0] == 2
    assert {w for w in clade.phenotypes["worker"] if w} <= {"pool-0", "pool-1"}
