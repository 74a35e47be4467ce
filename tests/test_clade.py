"""Clade end to end: evolve on digits (and Reuters when the shared data is there), folder
contents, lineage, selections, re-opening, gene pools and observable state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dlgene_core import GAFC1, Clade, CladeConfig, CladeStateError
from dlgene_core.families import get_family
from dlgene_core.operators import violations

TINY = {
    "population_size": 4,
    "generations": 2,
    "epochs": (1, 2),
    "nb_units": (4, 32),
    "nb_layers": (1, 2),
    "batch_size": (32, 128),
    "max_train_time": 30.0,
    "optimizers": ["adam", "rmsprop", "nadam"],
    "lr_bins": [(1e-3, 1e-2)],
    "seed": 1,
}
FAMILY = get_family("GAFC1")


@pytest.fixture(scope="module")
def evolved(tmp_path_factory):
    """Two generations on digits, with one unbuildable genotype in generation 0."""
    folder = tmp_path_factory.mktemp("clade") / "run"
    clade = GAFC1(CladeConfig(**TINY), data="digits", folder=folder)
    record: dict[str, list] = {"generation": [], "progress": [], "status": [], "batches": []}
    clade.observe(lambda c: record["generation"].append(c["new"]), names=["generation"])
    clade.observe(lambda c: record["progress"].append(c["new"]), names=["progress"])
    clade.observe(lambda c: record["status"].append(c["new"]), names=["status"])
    clade.observe(lambda c: record["batches"].append(c["new"]), names=["last_batch"])
    events: list[dict] = []
    clade.add_listener(events.append)
    clade.load_data()
    table = clade.spawn().copy()
    table.at[1, "layers_activation"] = ["bogus"] * int(table.at[1, "nb_layers"])
    clade._set_generation_genotypes(table)  # a broken genotype: recorded, the rest go on
    clade.evolve()
    return clade, record, events


def test_tables_statuses_and_files(evolved) -> None:
    clade, _, _ = evolved
    folder = clade.store.path
    for name in ("config.json", "clade.json", "genotypes.parquet", "phenotypes.parquet"):
        assert (folder / name).exists()
    assert (folder / "selections.parquet").exists() and (folder / "lineage.parquet").exists()
    assert json.loads((folder / "clade.json").read_text())["kind"] == "GAFC1"
    ph = clade.phenotypes.set_index("model_id")
    assert sorted(ph.index) == [f"g{g}-{i:03d}" for g in (0, 1) for i in range(4)]
    assert ph.loc["g0-001", "status"] == "failed"
    assert "bogus" in ph.loc["g0-001", "reason"]
    others = ph.drop(index="g0-001")
    assert set(others["status"]) <= {"ok", "timed_out"}
    assert (others["test_accuracy"].between(0, 1)).all() and (others["n_params"] > 0).all()
    assert (others["epochs_run"] >= 1).all() and (others["epochs_run"] <= 2).all()
    assert not (folder / "models" / "g0-001.h5").exists()
    for mid in others.index:
        assert (folder / "models" / f"{mid}.h5").stat().st_size > 1000
        batches = clade.growth(mid)
        assert len(batches) == others.loc[mid, "batches_run"]
        assert len(clade.growth(mid, "epochs")) == others.loc[mid, "epochs_run"]
        confusion = clade.confusion_matrix(mid)
        assert confusion.sum() == 359
        assert np.trace(confusion) / 359 == pytest.approx(others.loc[mid, "test_accuracy"])
        assert len(clade.misclassified(mid)) == 359 - np.trace(confusion)
    stored = pd.read_parquet(folder / "phenotypes.parquet").set_index("model_id").sort_index()
    pd.testing.assert_frame_equal(stored, ph.sort_index(), check_dtype=False)
    genotypes = pd.read_parquet(folder / "genotypes.parquet")
    assert len(genotypes) == 8
    narrowed = clade.config
    for mid in genotypes["model_id"]:
        if mid != "g0-001":
            assert violations(FAMILY, clade.genotype(mid), narrowed) == []


def test_selection_is_stored_and_used_by_breed(evolved) -> None:
    clade, _, _ = evolved
    selections = clade.store.read_table("selections")
    assert set(selections["generation"]) == {0}
    chosen = set(selections["model_id"])
    assert "g0-001" not in chosen  # a failed model is never a parent
    ph0 = clade.generation_phenotypes(0)
    usable = ph0[ph0["status"].isin(["ok", "timed_out"])]
    best = usable.sort_values(["val_accuracy", "model_id"], ascending=[False, True]).iloc[0]
    top = selections[selections["reason"] == "top"]
    assert list(top["model_id"]) == [best["model_id"]]  # 0.2 * 4 rounds to 1, kept on val
    lineage = clade.lineage()
    children = clade.all_genotypes[clade.all_genotypes["generation"] == 1]
    assert set(lineage["child_id"]) == set(children["model_id"])
    assert set(lineage["parent_id"]) <= chosen
    for _, row in children.iterrows():
        edges = lineage[lineage["child_id"] == row["model_id"]]
        assert sorted(edges["parent_id"]) == sorted(row["parents"])
        assert len(row["parents"]) == min(2, len(chosen))
    ancestry = clade.ancestry("g1-000")
    assert set(ancestry["parent_id"]) == set(children.iloc[0]["parents"])


def test_observable_state_fired_during_training(evolved) -> None:
    clade, record, events = evolved
    assert record["generation"] == [1]
    assert "evolving" in record["status"] and "growing" in record["status"]
    assert clade.status == "idle"
    assert record["progress"][-1] == (4, 4) == clade.progress
    assert (1, 4) in record["progress"]  # progress moved model by model
    total_batches = int(clade.phenotypes["batches_run"].sum())
    assert len(record["batches"]) == total_batches  # one trait change per batch
    assert {"model_id", "epoch", "batch", "loss", "accuracy"} <= set(record["batches"][-1])
    kinds = pd.Series([e["event"] for e in events]).value_counts()
    assert kinds["start"] == 8 and kinds["result"] == 8 and kinds["batch"] == total_batches
    assert kinds["epoch"] == int(clade.phenotypes["epochs_run"].sum())


def test_open_restores_state(evolved) -> None:
    clade, _, _ = evolved
    again = Clade.open(clade.store.path)
    assert type(again) is GAFC1
    assert again.config == clade.config
    assert again.generation == 1
    assert again.data_spec == clade.data_spec
    pd.testing.assert_frame_equal(again.genotypes, clade.genotypes, check_dtype=False)
    key = ["model_id"]
    pd.testing.assert_frame_equal(
        again.phenotypes.sort_values(key).reset_index(drop=True),
        clade.phenotypes.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
    assert again.progress == (4, 4)
    assert again.jobs() == []  # nothing left to grow
    pd.testing.assert_frame_equal(again.best(3), clade.best(3))
    model = again.load_model(again.best(1)["model_id"][0])
    assert model.output_shape == (None, 10)
    with pytest.raises(CladeStateError, match="already holds a clade"):
        GAFC1(CladeConfig(**TINY), data="digits", folder=clade.store.path)
    with pytest.raises(FileNotFoundError, match="not a dlgene experiment folder"):
        Clade.open(clade.store.path / "growth")


def test_load_genepool_manual_selection_and_seed_models(evolved, tmp_path) -> None:
    source, _, _ = evolved
    clade = GAFC1(CladeConfig(**TINY).updated(seed=5), data="digits", folder=tmp_path / "pool")
    genotypes = clade.load_genepool(source.store.path)  # generation 1 of the source
    assert list(genotypes["model_id"]) == [f"g0-{i:03d}" for i in range(4)]
    src = source.generation_phenotypes(1).sort_values("model_id").reset_index(drop=True)
    got = clade.phenotypes.sort_values("model_id").reset_index(drop=True)
    np.testing.assert_allclose(got["val_accuracy"], src["val_accuracy"])
    for i in range(4):
        assert clade.genotype(f"g0-{i:03d}") == source.genotype(f"g1-{i:03d}")
        assert len(clade.growth(f"g0-{i:03d}")) == len(source.growth(f"g1-{i:03d}"))
        assert (tmp_path / "pool" / "models" / f"g0-{i:03d}.h5").exists()
    assert clade.jobs() == []  # adopted models are finished already
    with pytest.raises(CladeStateError, match="no parents selected"):
        clade.breed()
    with pytest.raises(ValueError, match="g9-999"):
        clade.select_parents(model_ids=["g9-999"])
    chosen = clade.select_parents(model_ids=["g0-002", "g0-003"])
    assert list(chosen["reason"]) == ["manual", "manual"]
    children = clade.breed()
    assert clade.generation == 1 and len(children) == 4
    assert all(set(p) == {"g0-002", "g0-003"} for p in children["parents"])
    paths = clade.seed_models()
    assert [p.name for p in paths] == [f"g1-{i:03d}.seed.h5" for i in range(4)]
    assert all(p.exists() for p in paths)
    with pytest.raises(KeyError, match="nope"):
        clade.grow_models(model_ids=["nope"])


def test_spawn_is_deterministic(tmp_path) -> None:
    cfg = CladeConfig(**TINY)
    a = GAFC1(cfg, data="wine", folder=tmp_path / "a").spawn()
    b = GAFC1(cfg, data="wine", folder=tmp_path / "b").spawn()
    c = GAFC1(cfg.updated(seed=2), data="wine", folder=tmp_path / "c").spawn()
    pd.testing.assert_frame_equal(a, b)
    assert not a.drop(columns="model_id").equals(c.drop(columns="model_id"))
    reopened = Clade.open(tmp_path / "a")
    pd.testing.assert_frame_equal(reopened.genotypes, a, check_dtype=False)


def test_user_arrays_and_step_errors(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 5)), np.arange(60) % 3
    clade = GAFC1(CladeConfig(**TINY), data=(x, y), folder=tmp_path / "arr")
    assert (tmp_path / "arr" / "data" / "arrays.npz").exists()
    ds = clade.load_data()
    assert (len(ds.y_train) + len(ds.y_val), len(ds.y_test)) == (48, 12)
    with pytest.raises(CladeStateError, match="call spawn first"):
        clade.grow_models()
    with pytest.raises(CladeStateError, match="no grown models"):
        clade.select_parents()


@pytest.mark.slow
def test_evolve_on_reuters(shared_data, tmp_path) -> None:
    cfg = CladeConfig(
        population_size=4,
        generations=2,
        epochs=(1, 2),
        nb_units=(8, 64),
        nb_layers=(1, 2),
        batch_size=(128, 512),
        max_train_time=20.0,
        max_words=2000,
        optimizers=["adam", "rmsprop", "nadam"],
        lr_bins=[(1e-3, 1e-2)],
        seed=0,
    )
    clade = GAFC1(
        cfg, data="reuters", folder=tmp_path / "reuters", data_path=shared_data / "reuters_flat.npz"
    )
    ds = clade.load_data()
    assert ds.input_shape == (2000,) and ds.n_classes == 46 and len(ds.y_test) == 2246
    clade.evolve()
    ph = clade.phenotypes
    assert len(ph) == 8 and sorted(set(ph["generation"])) == [0, 1]
    assert set(ph["status"]) <= {"ok", "timed_out"}
    assert ph["val_accuracy"].max() > 0.6 and ph["test_accuracy"].max() > 0.6
    best = clade.best(1).iloc[0]
    assert best["val_accuracy"] == ph["val_accuracy"].max()
    for mid in ph["model_id"]:
        assert (tmp_path / "reuters" / "models" / f"{mid}.h5").exists()
        assert clade.confusion_matrix(mid).shape == (46, 46)
    lineage = clade.lineage()
    assert set(lineage["child_id"]) == {f"g1-{i:03d}" for i in range(4)}
    assert set(lineage["parent_id"]) <= set(clade.store.read_table("selections")["model_id"])
