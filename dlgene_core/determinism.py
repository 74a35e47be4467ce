"""Repeatable training in any process: Keras' default weight seeds get their own generator.

Keras draws a seed for every unseeded initializer from the process-wide ``random`` module.
Anything else in the process that draws from it between two models (a Dask worker's event
loop, a notebook's own code, a widget library) would change the next model's initial
weights. With a private generator, seeded by ``keras.utils.set_random_seed`` like the
global one, a job gives the same weights in the notebook, a pool worker or a Dask worker.
"""

from __future__ import annotations

import random


class _SeedBoth:
    """Stands in for the ``random`` module inside Keras' ``set_random_seed``: seeding it
    seeds the global ``random`` and Keras' private generator alike."""

    def __init__(self, private: random.Random):
        self._private = private

    def seed(self, value=None, version: int = 2) -> None:
        random.seed(value, version)
        self._private.seed(value, version)

    def __getattr__(self, name: str):
        return getattr(random, name)


def isolate_keras_seeds() -> bool:
    """Give Keras' default weight seeds a private generator (once per process).

    Returns False on a Keras whose internals differ (its own behaviour is kept)."""
    try:
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils
    except ImportError:
        return False
    if isinstance(getattr(rng_utils, "random", None), _SeedBoth):
        return True
    if not (hasattr(seed_generator, "python_random") and hasattr(rng_utils, "random")):
        return False
    private = random.Random()
    seed_generator.python_random = private
    rng_utils.random = _SeedBoth(private)
    return True
