"""GACNN1: convolutional blocks (1-D for (steps, C) inputs, 2-D for (H, W, C)) + a dense head.

One conv block is: Conv (filters, kernel size, stride, padding, L1/L2 kernel penalty)
-> optional batch norm -> optional residual add (1x1 projection when the shape changes)
-> activation -> pooling (max / average / none, size 2) -> optional dropout. After the
last block the feature map is flattened or globally pooled (the ``readout`` gene) and fed
to GAFC1's dense head (``layers``, 0 or more blocks, bounded by ``head_layers``).
"""

from __future__ import annotations

import math
from typing import Any

from ..genes import ChanceGene, ChoiceGene, IntGene, RegularizerGene, Segment
from . import register_family
from .base import DENSE_SEGMENT, TRAINING_GENES, Family

CONV_SEGMENT = Segment(
    "conv",
    "conv_blocks",
    (
        IntGene("filters", "conv_filters", log=True),
        IntGene("kernel_size", "kernel_size"),
        IntGene("stride", "strides"),
        ChoiceGene("padding", "paddings"),
        ChoiceGene("pooling", "poolings"),
        ChanceGene("batchnorm", "batchnorm_chance"),
        ChanceGene("residual", "residual_chance"),
        ChoiceGene("activation", "conv_activations"),
        RegularizerGene(),
    ),
)

POOL_SIZE = 2


def spatial_dims(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The spatial axes of a grid input: (steps,) for (steps, C), (H, W) for (H, W, C)."""
    if len(input_shape) not in (2, 3):
        raise ValueError(
            f"GACNN1 input shape {input_shape}: allowed (steps, channels) for 1-D or "
            "(height, width, channels) for 2-D convolution (use data form 'grid')"
        )
    return tuple(int(d) for d in input_shape[:-1])


def conv_length(length: int, kernel: int, stride: int, padding: str) -> int:
    """Output length of one convolution along one axis (Keras' rule); < 1 means impossible."""
    if padding == "same":
        return math.ceil(length / stride)
    return (length - kernel) // stride + 1


def trace_dims(dims: tuple[int, ...], blocks: list[dict[str, Any]]) -> list[tuple[int, ...]]:
    """Spatial dims after each block (conv then pooling); stops at the first that is < 1."""
    out: list[tuple[int, ...]] = []
    for block in blocks:
        k, s = int(block["kernel_size"]), int(block["stride"])
        dims = tuple(conv_length(d, k, s, block["padding"]) for d in dims)
        if block["pooling"] != "none":
            dims = tuple(d // POOL_SIZE for d in dims)
        out.append(dims)
        if min(dims) < 1:
            break
    return out


def repair_blocks(
    dims: tuple[int, ...], blocks: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Keep every feature map >= 1: padding 'same' where the kernel overhangs, and no
    pooling where the map is already smaller than the pool."""
    fixed = [dict(b) for b in blocks]
    notes: list[str] = []
    for i, block in enumerate(fixed):
        k, s = int(block["kernel_size"]), int(block["stride"])
        if block["padding"] == "valid" and min(conv_length(d, k, s, "valid") for d in dims) < 1:
            block["padding"] = "same"
            notes.append(f"conv[{i}].padding valid->same (kernel {k} > map {min(dims)})")
        dims = tuple(conv_length(d, k, s, block["padding"]) for d in dims)
        if block["pooling"] != "none" and min(dims) < POOL_SIZE:
            notes.append(f"conv[{i}].pooling {block['pooling']}->none (map {min(dims)})")
            block["pooling"] = "none"
        if block["pooling"] != "none":
            dims = tuple(d // POOL_SIZE for d in dims)
    return fixed, notes


def conv_block(x: Any, block: dict[str, Any], rank: int) -> Any:
    """One conv block on a Keras tensor (rank 1 or 2 spatial axes)."""
    import keras

    from ..modelbuild import maybe_dropout, regularizer_for

    conv_cls = keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D
    k, s, padding = int(block["kernel_size"]), int(block["stride"]), block["padding"]
    filters = int(block["filters"])
    shortcut = x
    y = conv_cls(
        filters,
        k,
        strides=s,
        padding=padding,
        use_bias=not block["batchnorm"],
        kernel_regularizer=regularizer_for(block),
    )(x)
    if block["batchnorm"]:
        y = keras.layers.BatchNormalization()(y)
    if block["residual"]:
        y = keras.layers.Add()([y, _projection(shortcut, y, k, s, padding, rank)])
    y = keras.layers.Activation(block["activation"])(y)
    if block["pooling"] != "none":
        y = _pooling(block["pooling"], rank)(y)
    return maybe_dropout(y, block)


def _projection(x: Any, target: Any, kernel: int, stride: int, padding: str, rank: int) -> Any:
    """The residual path: crop what a 'valid' kernel trims, then a strided 1x1 convolution
    when the shape or channel count differs from the block's output."""
    import keras

    if padding == "valid" and kernel > 1:
        crop = ((kernel - 1) // 2, kernel // 2)
        x = (
            keras.layers.Cropping1D(crop)(x)
            if rank == 1
            else keras.layers.Cropping2D((crop, crop))(x)
        )
    if tuple(x.shape[1:]) != tuple(target.shape[1:]):
        conv_cls = keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D
        x = conv_cls(int(target.shape[-1]), 1, strides=stride, padding="same")(x)
    return x


def _pooling(kind: str, rank: int) -> Any:
    import keras

    layers = {
        ("max", 1): keras.layers.MaxPooling1D,
        ("max", 2): keras.layers.MaxPooling2D,
        ("average", 1): keras.layers.AveragePooling1D,
        ("average", 2): keras.layers.AveragePooling2D,
    }
    return layers[(kind, rank)](POOL_SIZE)


def readout(x: Any, kind: str, rank: int) -> Any:
    """Turn the last feature map into a vector for the dense head."""
    import keras

    if kind == "flatten":
        return keras.layers.Flatten()(x)
    layers = {
        ("global_average", 1): keras.layers.GlobalAveragePooling1D,
        ("global_average", 2): keras.layers.GlobalAveragePooling2D,
        ("global_max", 1): keras.layers.GlobalMaxPooling1D,
        ("global_max", 2): keras.layers.GlobalMaxPooling2D,
    }
    if (kind, rank) not in layers:
        raise ValueError(f"readout {kind!r}: allowed flatten, global_average, global_max")
    return layers[(kind, rank)]()(x)


class ConvFamily(Family):
    name = "GACNN1"
    description = "Convolutional clade (1-D and 2-D conv blocks, then GAFC1's dense head)."
    form = "grid"
    scalar_genes = (*TRAINING_GENES, ChoiceGene("readout", "conv_readouts"))
    segments = (CONV_SEGMENT, DENSE_SEGMENT)

    def count_bounds(self, segment, cfg):
        if segment.name == DENSE_SEGMENT.name:
            return tuple(cfg.head_layers)
        return segment.count_range(cfg)

    def repair(self, genotype, dataset):
        dims = spatial_dims(dataset.input_shape)
        blocks, notes = repair_blocks(dims, genotype["conv"])
        if not notes:
            return genotype, ""
        return {**genotype, "conv": blocks}, "; ".join(notes)

    def build_body(self, inputs, genotype, dataset):
        rank = len(spatial_dims(dataset.input_shape))
        x = inputs
        for block in genotype["conv"]:
            x = conv_block(x, block, rank)
        return readout(x, genotype["readout"], rank)


register_family(ConvFamily())
