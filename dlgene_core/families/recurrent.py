"""GARNN1: (embedding | direct input) -> optional 1-D conv front end -> stacked RNN -> head.

Token data (Reuters) comes as (N, sequence_length) word indices and gets an Embedding of
``embedding_dim`` (no masking: sequences are left-padded, so the last steps are real words,
and masks would slow training on CPU and rule out the fused GPU kernels). Numeric sequences
(MNIST-1D) come as (N, steps, C) floats and feed the network directly; (N, H, W, C) images
are read row by row as (H, W*C) sequences. Every recurrent layer but the last returns
sequences. The dense head is GAFC1's ``layers`` segment, bounded by ``head_layers``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..genes import ChanceGene, ChoiceGene, Gene, IntGene, RegularizerGene, Segment
from . import register_family
from .base import DENSE_SEGMENT, TRAINING_GENES, Family

TOKEN_DATASETS = ("reuters",)


@dataclass(frozen=True)
class RecurrentDropoutGene(Gene):
    """0.0, or with ``recurrent_dropout_chance`` a rate from ``recurrent_dropout_rate``."""

    name: str = "recurrent_dropout"

    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name,)

    def sample(self, rng, cfg, context=None):
        if rng.random() >= cfg.recurrent_dropout_chance:
            return {self.name: 0.0}
        low, high = cfg.recurrent_dropout_rate
        return {self.name: float(rng.uniform(low, high))}

    def contains(self, values, cfg):
        value = values[self.name]
        if not isinstance(value, float | int | np.floating) or not math.isfinite(value):
            return False
        if value == 0.0:
            return cfg.recurrent_dropout_chance < 1.0
        low, high = cfg.recurrent_dropout_rate
        return cfg.recurrent_dropout_chance > 0 and low * (1 - 1e-9) <= value <= high * (1 + 1e-9)


RNN_SEGMENT = Segment(
    "rnn",
    "rnn_layers",
    (
        ChoiceGene("cell", "rnn_cells"),
        IntGene("units", "rnn_units", log=True),
        ChanceGene("bidirectional", "bidirectional_chance"),
        RegularizerGene(),
        RecurrentDropoutGene(),
    ),
)

# The optional 1-D convolution front end: flag, filters, kernel, pooling, regularizer.
FRONT_GENES: tuple[Gene, ...] = (
    ChanceGene("conv_front", "conv_front_chance"),
    IntGene("front_filters", "conv_filters", log=True),
    IntGene("front_kernel", "kernel_size"),
    ChoiceGene("front_pooling", "poolings"),
    RegularizerGene("front_regularizer", "front_reg_value"),
)


def sequence_input(inputs: Any, genotype: dict[str, Any], dataset: Any) -> Any:
    """Embedding for tokens; numeric (steps, C) as is; (H, W, C) images as H steps."""
    import keras

    shape = dataset.input_shape
    if dataset.form == "tokens":
        if dataset.vocab_size < 2:
            raise ValueError(
                f"GARNN1 on tokens needs dataset.vocab_size >= 2, got {dataset.vocab_size}"
            )
        return keras.layers.Embedding(dataset.vocab_size, int(genotype["embedding_dim"]))(inputs)
    if len(shape) == 2:
        return inputs
    if len(shape) == 3:
        return keras.layers.Reshape((shape[0], shape[1] * shape[2]))(inputs)
    raise ValueError(
        f"GARNN1 input shape {shape}: allowed (steps,) tokens, (steps, channels) or "
        "(height, width, channels)"
    )


def conv_front(x: Any, genotype: dict[str, Any]) -> Any:
    """Conv1D (same padding, relu, L1/L2) -> pooling of 2 -> dropout, as the genes say."""
    import keras

    from ..modelbuild import maybe_dropout, regularizer_for

    reg = {"regularizer": genotype["front_regularizer"], "reg_value": genotype["front_reg_value"]}
    x = keras.layers.Conv1D(
        int(genotype["front_filters"]),
        int(genotype["front_kernel"]),
        padding="same",
        activation="relu",
        kernel_regularizer=regularizer_for(reg),
    )(x)
    pools = {"max": keras.layers.MaxPooling1D, "average": keras.layers.AveragePooling1D}
    if genotype["front_pooling"] in pools:
        x = pools[genotype["front_pooling"]](2)(x)
    return maybe_dropout(x, reg)


def recurrent_layer(block: dict[str, Any], return_sequences: bool) -> Any:
    import keras

    from ..modelbuild import regularizer_for

    cells = {
        "gru": keras.layers.GRU,
        "lstm": keras.layers.LSTM,
        "simple_rnn": keras.layers.SimpleRNN,
    }
    if block["cell"] not in cells:
        raise ValueError(f"rnn cell {block['cell']!r}: allowed {sorted(cells)}")
    dropout = float(block["reg_value"]) if block["regularizer"] == "dropout" else 0.0
    layer = cells[block["cell"]](
        int(block["units"]),
        return_sequences=return_sequences,
        dropout=dropout,
        recurrent_dropout=float(block["recurrent_dropout"]),
        kernel_regularizer=regularizer_for(block),
    )
    return keras.layers.Bidirectional(layer) if block["bidirectional"] else layer


class RecurrentFamily(Family):
    name = "GARNN1"
    description = "Recurrent clade (GRU / LSTM / SimpleRNN stacks, then GAFC1's dense head)."
    form = "grid"
    scalar_genes = (
        *TRAINING_GENES,
        IntGene("embedding_dim", "embedding_dim", log=True),
        *FRONT_GENES,
    )
    segments = (RNN_SEGMENT, DENSE_SEGMENT)

    def form_for(self, data_name: str) -> str:
        return "tokens" if data_name in TOKEN_DATASETS else "grid"

    def count_bounds(self, segment, cfg):
        if segment.name == DENSE_SEGMENT.name:
            return tuple(cfg.head_layers)
        return segment.count_range(cfg)

    def repair(self, genotype, dataset):
        steps = dataset.input_shape[0]
        if genotype["conv_front"] and genotype["front_pooling"] != "none" and steps < 2:
            note = f"front_pooling {genotype['front_pooling']}->none ({steps} step)"
            return {**genotype, "front_pooling": "none"}, note
        return genotype, ""

    def build_body(self, inputs, genotype, dataset):
        x = sequence_input(inputs, genotype, dataset)
        if genotype["conv_front"]:
            x = conv_front(x, genotype)
        blocks = genotype["rnn"]
        for i, block in enumerate(blocks):
            x = recurrent_layer(block, return_sequences=i < len(blocks) - 1)(x)
        return x


register_family(RecurrentFamily())
