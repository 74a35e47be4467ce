"""dlgene's own strategies, one clade per run, and what this dlgene version offers.

:func:`strategy_settings` is the one place that knows which search fields the installed
dlgene has: with the search branch (``CladeConfig.strategy``) every strategy is a config
field; without it, ``tiers`` is the only GA there is and ``random`` is one spawned generation
of all the models, and ``aging`` cannot run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dlgene_core.clade import Clade
from dlgene_core.config import CladeConfig
from dlgene_core.operators import from_row

from .report import UNPRUNED, RunResult

STRATEGY_TOOLS = ("dlgene-random", "dlgene-tiers", "dlgene-aging")
DLGENE_TOOLS = (*STRATEGY_TOOLS, *(f"{t}{UNPRUNED}" for t in STRATEGY_TOOLS))


def has_strategies() -> bool:
    return "strategy" in CladeConfig.field_names()


def default_tool() -> str:
    """The strategy ``CladeConfig()`` uses, as a tool name (marked * in the table)."""
    return f"dlgene-{CladeConfig().strategy}" if has_strategies() else "dlgene-tiers"


def strategy_settings(
    strategy: str, population: int, generations: int
) -> tuple[dict[str, Any] | None, str]:
    """Config changes that run ``strategy`` with ``population`` x ``generations`` models,
    and a note on what was substituted (``None``: this dlgene cannot run the strategy)."""
    budget = {"population_size": population, "generations": generations}
    if has_strategies():
        return {**budget, "strategy": strategy}, ""
    if strategy == "tiers":
        return budget, "no 'strategy' field in this dlgene: ran its GA (= tiers)"
    if strategy == "random":
        models = population * generations
        note = f"no 'strategy' field in this dlgene: random = one spawned generation of {models}"
        return {"population_size": models, "generations": 1}, note
    return None, f"strategy {strategy!r} is not available in this dlgene (no 'strategy' field)"


def run_dlgene(
    tool: str, cfg: CladeConfig, data_spec: Any, n_population: int, n_generations: int, folder: Path
) -> RunResult | str:
    """Evolve one clade in this process (in-process executor); a string when it cannot run.
    A tool ending in ``-unpruned`` runs its strategy with ``pruner="none"``."""
    strategy = tool.removeprefix("dlgene-").removesuffix(UNPRUNED)
    changes, note = strategy_settings(strategy, n_population, n_generations)
    if changes is None:
        return note
    if tool.endswith(UNPRUNED):
        changes = {**changes, "pruner": "none"}
    run_cfg = cfg.updated(**changes, executor="inprocess")
    started = time.perf_counter()
    with Clade(run_cfg, data=data_spec, folder=folder) as clade:
        clade.load_data()
        clade.evolve()
        wall = time.perf_counter() - started
        ph = clade.phenotypes
        best = clade.best(1)
        pick = best.iloc[0] if len(best) else None
        genotypes = clade.all_genotypes
        trained = ph[ph["status"] != "duplicate"]
        genotype: dict[str, Any] = {}
        if pick is not None:
            row = genotypes[genotypes["model_id"] == pick["model_id"]].iloc[0]
            genotype = from_row(clade.family, row)
        return RunResult(
            dataset=clade.dataset.name,
            tool=tool,
            seed=int(run_cfg.seed),
            models=len(ph),
            configs=len(trained),
            epochs=int(trained["epochs_run"].sum()),
            wall_s=wall,
            val_accuracy=float(pick["val_accuracy"]) if pick is not None else float("nan"),
            test_accuracy=float(pick["test_accuracy"]) if pick is not None else float("nan"),
            selected=str(pick["model_id"]) if pick is not None else "",
            statuses={str(k): int(v) for k, v in ph["status"].value_counts().items()},
            genotype=genotype,
            note=note,
        )
