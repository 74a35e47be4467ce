"""Exceptions that name the bad field, the bad value and what is allowed."""

from __future__ import annotations

from traitlets import TraitError


class ConfigError(TraitError, ValueError):
    """A config field got a value outside what the search space allows."""

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"config field {field!r}: got {value!r}; allowed: {allowed}")


class DataError(ValueError):
    """Input data has the wrong shape, type, labels or values."""


class GenotypeError(ValueError):
    """A genotype is outside the config's bounds or cannot be built."""


class CladeStateError(RuntimeError):
    """A clade step was called before the step it needs (e.g. breed before select)."""


class UnsafeModelError(ValueError):
    """A model file needs code execution to load (e.g. a Lambda layer) and was refused."""


class DamagedFolderError(CladeStateError):
    """A file of an experiment folder is missing, truncated or lacks what it must hold."""
