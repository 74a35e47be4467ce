"""GAFC1: Genetic Algorithm operations for Fully Connected nets, version 1."""

from __future__ import annotations

from .base import Family


class DenseFamily(Family):
    name = "GAFC1"
    description = "Genetic Algorithm operations for Fully Connected nets, version 1."
    form = "flat"

    def build_body(self, inputs, genotype, dataset):
        return inputs
