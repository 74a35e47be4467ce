"""GARNN1: embedding / direct input, conv front end, stacked RNN, evolution on real data."""

from __future__ import annotations

import numpy as np
import pytest
from family_helpers import OPERATIONS, make_child, tiny_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlgene_core.clade import GARNN1
from dlgene_core.config import CladeConfig
from dlgene_core.families import get_family
from dlgene_core.operators import random_genotype, violations
from dlgene_core.trainer import GrowJob, grow_one

FAMILY = get_family("GARNN1")
CFG = CladeConfig(
    kind="GARNN1",
    rnn_layers=(1, 3),
    rnn_units=(2, 6),
    conv_filters=(2, 6),
    kernel_size=(1, 5),
    embedding_dim=(2, 6),
    nb_units=(2, 6),
    head_layers=(0, 2),
    regularizer_chance=0.7,
    conv_front_chance=0.5,
    bidirectional_chance=0.5,
    recurrent_dropout_chance=0.3,
)
WIDE = CFG.updated(rnn_units=(2, 64), rnn_layers=(1, 5), embedding_dim=(2, 64), head_layers=(0, 4))
# (steps,) tokens; (steps, C) numeric sequences; (H, W, C) images read row by row.
SHAPES = (("tokens", (10,)), ("grid", (40, 1)), ("grid", (1, 2)), ("grid", (8, 8, 1)))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    operation=st.sampled_from(OPERATIONS),
    seed=st.integers(0, 2**32 - 1),
    data=st.sampled_from(SHAPES),
)
def test_every_child_is_in_bounds_and_builds(operation, seed, data):
    child = make_child(FAMILY, CFG, WIDE, operation, seed)
    assert violations(FAMILY, child, CFG) == []
    form, shape = data
    dataset = tiny_dataset(shape, form)
    repaired, _ = FAMILY.repair(child, dataset)
    model = FAMILY.build(repaired, dataset, CFG)
    out = np.asarray(model(dataset.x_train[:2]))
    assert out.shape == (2, dataset.n_classes)


def test_form_is_tokens_for_text_and_grid_for_numeric_sequences():
    assert FAMILY.form_for("reuters") == "tokens"
    assert FAMILY.form_for("mnist1d") == "grid"
    assert FAMILY.form_for("digits") == "grid"
    assert get_family("GAFC1").form_for("reuters") == "flat"


def _block(cell: str, bidirectional: bool = False, **changes) -> dict:
    block = {
        "cell": cell,
        "units": 4,
        "bidirectional": bidirectional,
        "regularizer": "dropout",
        "reg_value": 0.2,
        "recurrent_dropout": 0.0,
    }
    return {**block, **changes}


def test_stack_returns_sequences_until_the_last_layer():
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(0))
    genotype.update(conv_front=True, front_pooling="max", layers=[])
    genotype.update(front_regularizer="dropout", front_reg_value=0.2)
    genotype["rnn"] = [
        _block("gru", True),
        _block("lstm", regularizer="l1", reg_value=1e-4),
        _block("simple_rnn", recurrent_dropout=0.2),
    ]
    model = FAMILY.build(genotype, tiny_dataset((10,), "tokens"), CFG)
    names = [type(x).__name__ for x in model.layers]
    assert names[1:5] == ["Embedding", "Conv1D", "MaxPooling1D", "Dropout"]
    assert names[5:8] == ["Bidirectional", "LSTM", "SimpleRNN"]
    bidirectional, lstm, simple = model.layers[5:8]
    assert bidirectional.forward_layer.return_sequences
    assert bidirectional.forward_layer.dropout == pytest.approx(0.2)
    assert lstm.return_sequences and not simple.return_sequences
    assert simple.recurrent_dropout == pytest.approx(0.2)


def test_front_pooling_on_a_one_step_sequence_is_repaired():
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(1))
    genotype.update(conv_front=True, front_pooling="average")
    fixed, note = FAMILY.repair(genotype, tiny_dataset((1, 2), "grid"))
    assert fixed["front_pooling"] == "none" and "front_pooling" in note


def test_unknown_cell_is_recorded_as_failed():
    genotype = random_genotype(FAMILY, CFG, np.random.default_rng(2))
    genotype["rnn"] = [_block("transformer")]
    job = GrowJob("g0-000", 0, "GARNN1", genotype, 0, CFG.to_dict())
    result = grow_one(job, tiny_dataset((40, 1), "grid"))
    assert result.status == "failed"
    assert "transformer" in result.phenotype["reason"]


def _small_config(**changes) -> CladeConfig:
    values = dict(
        population_size=3,
        generations=2,
        epochs=(1, 2),
        batch_size=(64, 128),
        rnn_layers=(1, 1),
        rnn_units=(8, 16),
        rnn_cells=["gru", "lstm"],
        recurrent_dropout_chance=0.0,
        bidirectional_chance=0.3,
        conv_front_chance=0.5,
        conv_filters=(8, 16),
        kernel_size=(3, 5),
        head_layers=(0, 1),
        nb_units=(16, 32),
        optimizers=["adam", "rmsprop"],
        lr_bins=[(3e-3, 1e-2)],
        max_train_time=15.0,
        top_tier=0.34,
        random_tier=0.5,
    )
    values.update(changes)
    return CladeConfig(**values)


@pytest.mark.slow
def test_garnn1_evolves_two_generations_on_mnist1d(tmp_path, shared_data):
    clade = GARNN1(
        _small_config(),
        data="mnist1d",
        folder=tmp_path / "rnn",
        data_path=str(shared_data / "mnist1d.npz"),
    )
    phenotypes = clade.evolve()
    assert clade.data_spec.form == "grid"
    assert clade.dataset.input_shape == (40, 1)
    assert len(phenotypes) == 6
    assert set(phenotypes["status"]) <= {"ok", "timed_out"}
    assert (phenotypes["status"] == "ok").sum() >= 3
    assert sorted(set(phenotypes["generation"])) == [0, 1]


@pytest.mark.slow
def test_garnn1_evolves_two_generations_on_reuters_tokens(tmp_path, shared_data):
    cfg = _small_config(
        sequence_length=60,
        max_words=2000,
        embedding_dim=(8, 16),
        epochs=(1, 1),
        max_train_time=10.0,
    )
    clade = GARNN1(
        cfg,
        data="reuters",
        folder=tmp_path / "text",
        data_path=str(shared_data / "reuters_flat.npz"),
    )
    phenotypes = clade.evolve()
    assert clade.data_spec.form == "tokens"
    assert clade.dataset.input_shape == (60,)
    assert clade.dataset.vocab_size == 2000
    assert len(phenotypes) == 6
    assert set(phenotypes["status"]) <= {"ok", "timed_out"}
    assert sorted(set(phenotypes["generation"])) == [0, 1]
    assert phenotypes["val_accuracy"].max() > 0.2
