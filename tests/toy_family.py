"""A toy family in one file, as a user's plug-in would be: inputs batch-normalised, then
the dense genes. Registering it is the only step (tests/test_family_registry.py)."""

from __future__ import annotations

from dlgene_core.families import Family, register_family


class NormalisedDenseFamily(Family):
    name = "GATOY1"
    description = "Toy clade: batch-normalised inputs, then GAFC1's dense genes."
    form = "flat"

    def build_body(self, inputs, genotype, dataset):
        import keras

        return keras.layers.BatchNormalization(name="toy_input_norm")(inputs)


def register() -> None:
    register_family(NormalisedDenseFamily())
