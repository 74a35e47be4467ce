"""Strict types for config fields, by trait type, so new fields are covered without a list.

traitlets is lenient where a search space must not be: ``True`` passes as the int 1 and
as the float 1.0, bytes pass as text. Every entry path (constructor, assignment, ``updated``,
``--set``, JSON) goes through :func:`check_value`, which refuses those with a
:class:`ConfigError` that names the field, the value and the type allowed.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from traitlets import (
    Bool,
    CFloat,
    CInt,
    Dict,
    Enum,
    Float,
    Integer,
    List,
    Set,
    TraitType,
    Tuple,
    Unicode,
)

from .errors import ConfigError


def unknown_field(key: str, value: object, fields: Iterable[str]) -> ConfigError:
    """The error for a key that is not a field, suggesting the closest field name."""
    fields = sorted(fields)
    close = difflib.get_close_matches(str(key), fields, n=1, cutoff=0.6)
    if close:
        allowed = f"a config field name (did you mean {close[0]!r}?)"
    else:
        allowed = "one of the config fields: " + ", ".join(fields)
    return ConfigError(str(key), value, allowed)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _describe(trait: TraitType) -> str:
    if isinstance(trait, Bool):
        return "true or false"
    if isinstance(trait, Integer | CInt):
        return "an integer (not a boolean or a string)"
    if isinstance(trait, Float | CFloat):
        return "a number (not a boolean or a string)"
    if isinstance(trait, Unicode | Enum):
        return "a string"
    if isinstance(trait, Tuple):
        inner = ", ".join(_describe(t) for t in trait._traits) or "values"
        return f"a list of {len(trait._traits)} items: {inner}"
    if isinstance(trait, List | Set):
        inner = _describe(trait._trait) if trait._trait is not None else "values"
        return f"a list whose items are each {inner}"
    if isinstance(trait, Dict):
        return "a mapping (a JSON object)"
    return trait.info()


def _type_ok(trait: TraitType, value: Any) -> bool:
    if value is None:
        return bool(getattr(trait, "allow_none", False))
    if isinstance(trait, Bool):
        return isinstance(value, bool) or type(value).__name__ == "bool_"
    if isinstance(trait, Integer | CInt):
        return _is_int(value)
    if isinstance(trait, Float | CFloat):
        return _is_real(value)
    if isinstance(trait, Unicode):
        return isinstance(value, str)
    if isinstance(trait, Tuple):
        items = trait._traits
        return (
            isinstance(value, list | tuple)
            and (not items or len(value) == len(items))
            and all(_type_ok(t, v) for t, v in zip(items, value, strict=False))
        )
    if isinstance(trait, List | Set):
        return isinstance(value, list | tuple | set) and (
            trait._trait is None or all(_type_ok(trait._trait, v) for v in value)
        )
    if isinstance(trait, Dict):
        return isinstance(value, Mapping) and not any(isinstance(v, bool) for v in value.values())
    return True


def check_value(name: str, trait: TraitType, value: Any) -> None:
    """Raise ConfigError unless ``value`` has exactly the type the field's trait holds."""
    if not _type_ok(trait, value):
        raise ConfigError(name, value, _describe(trait))
