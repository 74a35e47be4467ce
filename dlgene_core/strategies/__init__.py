"""Search strategies behind one contract (:mod:`.base`); ``get_strategy(name)`` picks one."""

from __future__ import annotations

from .aging import AgingStrategy
from .base import History, Strategy, manual_selection
from .nsga2 import NSGA2Strategy
from .random import RandomStrategy
from .tiers import TiersStrategy

STRATEGY_CLASSES: dict[str, type[Strategy]] = {
    "tiers": TiersStrategy,
    "aging": AgingStrategy,
    "random": RandomStrategy,
    "nsga2": NSGA2Strategy,
}


def get_strategy(name: str) -> Strategy:
    """The strategy called ``name``; a ValueError lists the allowed names."""
    if name not in STRATEGY_CLASSES:
        raise ValueError(f"strategy {name!r}; allowed: {', '.join(STRATEGY_CLASSES)}")
    return STRATEGY_CLASSES[name]()


__all__ = ["STRATEGY_CLASSES", "History", "Strategy", "get_strategy", "manual_selection"]
