"""GACNN1: conv-block genes, feature-map repair, buildable children, evolution on digits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from family_helpers import OPERATIONS, make_child, tiny_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlgene_core.clade import GACNN1
from dlgene_core.config import CladeConfig
from dlgene_core.data import DataSpec, make_dataset
from dlgene_core.families import get_family
from dlgene_core.families.conv import repair_blocks, trace_dims
from dlgene_core.operators import random_genotype, violations
from dlgene_core.trainer import GrowJob, grow_one

FAMILY = get_family("GACNN1")
# A small but edge-heavy space: deep stacks of big, strided, pooled kernels on tiny maps.
CFG = CladeConfig(
    kind="GACNN1",
    conv_blocks=(1, 5),
    conv_filters=(2, 6),
    kernel_size=(1, 9),
    strides=(1, 3),
    nb_units=(2, 6),
    head_layers=(0, 2),
    regularizer_chance=0.7,
    residual_chance=0.5,
)
WIDE = CFG.updated(conv_filters=(2, 64), kernel_size=(1, 16), strides=(1, 4), head_layers=(0, 4))
SHAPES = ((8, 8, 1), (40, 1), (5, 3, 2), (3, 1))


def conv_block(**changes) -> dict:
    """One conv block's genes: 4 filters, kernel 3, stride 1, same, no pooling, relu."""
    block = {
        "filters": 4,
        "kernel_size": 3,
        "stride": 1,
        "padding": "same",
        "pooling": "none",
        "batchnorm": False,
        "residual": False,
        "activation": "relu",
        "regularizer": "none",
        "reg_value": 0.0,
    }
    return {**block, **changes}


@settings(max_examples=18, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    operation=st.sampled_from(OPERATIONS),
    seed=st.integers(0, 2**32 - 1),
    shape=st.sampled_from(SHAPES),
)
def test_every_child_is_in_bounds_and_builds(operation, seed, shape):
    child = make_child(FAMILY, CFG, WIDE, operation, seed)
    assert violations(FAMILY, child, CFG) == []
    dataset = tiny_dataset(shape)
    repaired, _ = FAMILY.repair(child, dataset)
    model = FAMILY.build(repaired, dataset, CFG)
    out = np.asarray(model(dataset.x_train[:2]))
    assert out.shape == (2, dataset.n_classes)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from(SHAPES))
def test_repair_keeps_every_feature_map_at_least_one(seed, shape):
    genotype = random_genotype(FAMILY, WIDE, np.random.default_rng(seed))
    dims = shape[:-1]
    blocks, notes = repair_blocks(dims, genotype["conv"])
    assert all(min(d) >= 1 for d in trace_dims(dims, blocks))
    if all(min(d) >= 1 for d in trace_dims(dims, genotype["conv"])):
        assert notes == [] and blocks == genotype["conv"]


def test_repair_names_what_it_changed():
    block = conv_block(kernel_size=9, padding="valid", pooling="max", residual=True)
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(0))
    genotype["conv"] = [dict(block), dict(block, kernel_size=3, padding="same")]
    fixed, note = FAMILY.repair(genotype, tiny_dataset((8, 8, 1)))
    assert fixed["conv"][0]["padding"] == "same"
    assert "conv[0].padding valid->same" in note
    assert genotype["conv"][0]["padding"] == "valid"  # the input is not changed


def test_one_and_two_dimensional_inputs_pick_conv1d_and_conv2d():
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(3))
    for shape, layer in (((40, 1), "Conv1D"), ((8, 8, 1), "Conv2D")):
        dataset = tiny_dataset(shape)
        model = FAMILY.build(FAMILY.repair(genotype, dataset)[0], dataset, CFG)
        assert layer in {type(x).__name__ for x in model.layers}


def test_residual_projection_matches_valid_strided_blocks():
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(1))
    genotype["conv"] = [
        conv_block(
            filters=5,
            kernel_size=k,
            stride=stride,
            padding="valid",
            batchnorm=True,
            residual=True,
            regularizer="l2",
            reg_value=1e-4,
        )
        for k, stride in ((4, 2), (2, 1), (3, 3))
    ]
    dataset = tiny_dataset((40, 1))
    model = FAMILY.build(genotype, dataset, CFG)
    assert sum(type(x).__name__ == "Add" for x in model.layers) == 3


def _job(genotype: dict, model_id: str = "g0-000") -> GrowJob:
    cfg = CFG.updated(max_train_time=20.0)
    return GrowJob(model_id, 0, "GACNN1", genotype, 0, cfg.to_dict())


def test_too_much_pooling_is_repaired_and_grows():
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(4))
    pooled = conv_block(
        stride=2, padding="valid", pooling="max", regularizer="dropout", reg_value=0.2
    )
    genotype.update(conv=[dict(pooled) for _ in range(5)], epochs=1, batch_size=16)
    genotype.update(optimizer="adam", learning_rate=1e-3)
    result = grow_one(_job(genotype), tiny_dataset((8, 8, 1)))
    assert result.status == "ok", result.phenotype["reason"]


def test_unbuildable_genotype_is_recorded_as_failed():
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(5))
    genotype["readout"] = "no-such-readout"
    result = grow_one(_job(genotype), tiny_dataset((40, 1)))
    assert result.status == "failed"
    assert "readout" in result.phenotype["reason"]


def test_exploding_training_is_recorded_as_diverged():
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(6))
    block = conv_block()
    genotype.update(optimizer="sgd", learning_rate=1e12, epochs=2, batch_size=4)
    genotype.update(conv=[block], layers=[], readout="flatten")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 8, 8, 1)).astype(np.float32) * 1e6
    y = np.arange(40) % 3
    dataset = make_dataset("big", x, y, x[:8], y[:8], DataSpec(name="big", form="grid"))
    result = grow_one(_job(genotype), dataset)
    assert result.status == "diverged", result.phenotype


@pytest.mark.slow
def test_gacnn1_evolves_two_generations_on_digits(tmp_path):
    cfg = CladeConfig(
        population_size=3,
        generations=2,
        epochs=(1, 2),
        batch_size=(32, 64),
        conv_blocks=(1, 2),
        conv_filters=(8, 16),
        kernel_size=(2, 3),
        head_layers=(0, 1),
        nb_units=(16, 32),
        optimizers=["adam", "rmsprop"],
        lr_bins=[(1e-3, 1e-2)],
        max_train_time=15.0,
        top_tier=0.34,
        random_tier=0.5,
    )
    clade = GACNN1(cfg, data="digits", folder=tmp_path / "cnn")
    phenotypes = clade.evolve()
    assert clade.data_spec.form == "grid"
    assert clade.dataset.input_shape == (8, 8, 1)
    assert len(phenotypes) == 6
    assert set(phenotypes["status"]) == {"ok"}
    assert sorted(set(phenotypes["generation"])) == [0, 1]
    assert all(math.isfinite(v) for v in phenotypes["test_accuracy"])
    assert phenotypes["val_accuracy"].max() > 0.3
