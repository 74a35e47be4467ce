"""Keras building blocks shared by the families: regularized dense stacks and compiling."""

from __future__ import annotations

from typing import Any

import keras


def regularizer_for(block: dict[str, Any]) -> keras.regularizers.Regularizer | None:
    kind, value = block.get("regularizer", "none"), float(block.get("reg_value", 0.0))
    if kind == "l1":
        return keras.regularizers.L1(value)
    if kind == "l2":
        return keras.regularizers.L2(value)
    return None


def maybe_dropout(x: Any, block: dict[str, Any]) -> Any:
    if block.get("regularizer") == "dropout" and block.get("reg_value", 0.0) > 0:
        return keras.layers.Dropout(float(block["reg_value"]))(x)
    return x


def dense_stack(x: Any, layers: list[dict[str, Any]]) -> Any:
    """Flatten if needed, then one Dense (+ L1/L2 or Dropout) per block."""
    if len(x.shape) > 2:
        x = keras.layers.Flatten()(x)
    for block in layers:
        x = keras.layers.Dense(
            int(block["units"]),
            activation=block["activation"],
            kernel_regularizer=regularizer_for(block),
        )(x)
        x = maybe_dropout(x, block)
    return x


def compile_model(
    model: keras.Model, genotype: dict[str, Any], final_activation: str = "softmax"
) -> keras.Model:
    """Sparse cross-entropy on the family's output; a linear output is treated as logits."""
    optimizer = keras.optimizers.get(
        {
            "class_name": genotype["optimizer"],
            "config": {"learning_rate": float(genotype["learning_rate"])},
        }
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=final_activation == "linear")
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model
