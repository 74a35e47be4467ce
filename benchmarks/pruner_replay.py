"""Replay the pruner's rules on unpruned runs: which models each rule would stop, and what
that would cost the pick.

A run grown with ``pruner="none"`` holds every model's whole validation curve. This script
walks its models in the order the clade makes jobs (generation by generation; in a
generation with too few completed models before it, the first ``pruner_startup_models``
train unpruned and the rest are compared with them) and, for each rule, stops a model at
the first epoch where its best so far misses that rule's threshold. Models a rule stops are
left out of that rule's later references, as in a real run. The children are those of the
unpruned run under both rules, so this isolates the rule from what breeding does with it:

- ``held`` (dlgene's rule): each completed model's best so far, held after it ended;
- ``reported`` (Optuna's MedianPruner): the values of the completed models that reported
  epoch k, so a model that stopped early (early stopping, a shorter ``epochs`` gene) drops
  out of the later thresholds.

For each rule: models stopped, epochs saved, how many of the models that ``tiers`` takes as
its top tier unpruned (each generation's best ``top_tier`` share by the selection metric) it
stops, which changes the parents, and the best value it keeps against the run's best.

    python benchmarks/search_quality.py --datasets reuters --tools dlgene-tiers-unpruned \\
        --seeds 3 --workdir runs
    python benchmarks/pruner_replay.py runs/reuters-seed*-dlgene-tiers-unpruned
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from dlgene_core.config import CladeConfig
from dlgene_core.growth import _misses
from dlgene_core.population import tier_sizes
from dlgene_core.pruning import best_so_far, prune_thresholds, thresholds_over
from dlgene_core.records import USABLE_STATUSES
from dlgene_core.storage import ExperimentFolder

Rule = Callable[[CladeConfig, list[list[float]]], list[float]]
RULES: dict[str, Rule] = {
    "held": prune_thresholds,
    "reported": lambda cfg, curves: (
        thresholds_over(cfg, curves) if len(curves) >= max(1, cfg.pruner_startup_models) else []
    ),
}

Model = tuple[str, int, list[float], float]  # id, generation, curve, its recorded metric


def read_run(folder: Path, metric: str) -> list[Model]:
    """(model id, generation, validation curve, recorded value of ``metric``) for every
    grown model, in job order."""
    store = ExperimentFolder(folder, read_only=True)
    phenotypes = store.read_table("phenotypes")
    phenotypes = phenotypes[phenotypes["status"].isin(USABLE_STATUSES)]  # the clade's "completed"
    models = []
    for row in phenotypes.sort_values(["generation", "model_id"]).itertuples():
        epochs = store.read_growth(row.model_id, "epochs")
        curve = [float(v) for v in epochs[metric]] if not epochs.empty else []
        if curve:
            value = float(getattr(row, metric))
            models.append((str(row.model_id), int(row.generation), curve, value))
    return models


def stop_epoch(curve: list[float], thresholds: list[float], metric: str) -> int:
    """Epochs the model trains under ``thresholds`` (never stopped at its last epoch)."""
    best = best_so_far(curve, metric.endswith("loss"), len(curve))
    for epoch in range(len(curve) - 1):
        if epoch < len(thresholds) and _misses(best[epoch], thresholds[epoch], metric):
            return epoch + 1
    return len(curve)


def replay(models: list[Model], cfg: CladeConfig, rule: Rule) -> dict[str, float]:
    metric = cfg.selection_metric
    order = _order(models, metric.endswith("loss"))
    completed: dict[str, tuple[int, list[float]]] = {}
    trained: dict[str, int] = {}
    top_tiers: list[str] = []
    for generation in sorted({g for _, g, _, _ in models}):
        members = [(m, c) for m, g, c, _ in models if g == generation]
        by_value = sorted((m for m, g, _, _ in models if g == generation), key=order)
        top_tiers += by_value[: max(1, tier_sizes(len(members), cfg.top_tier, 0.0)[0])]
        earlier = [c for g, c in completed.values() if g < generation]
        block = (
            members[: cfg.pruner_startup_models] if len(earlier) < cfg.pruner_startup_models else []
        )
        for model_id, curve in block:
            trained[model_id] = len(curve)
            completed[model_id] = (generation, curve)
        reference = earlier + [c for _, c in block]
        thresholds = rule(cfg, reference)
        for model_id, curve in members[len(block) :]:
            trained[model_id] = stop_epoch(curve, thresholds, metric)
            if trained[model_id] == len(curve):
                completed[model_id] = (generation, curve)
    final = {m: v for m, _, _, v in models}
    ranked = sorted(final, key=order)
    kept = [m for m in ranked if m in completed]
    return {
        "stopped": len(models) - len(completed),
        "saved": 1.0 - sum(trained.values()) / sum(len(c) for _, _, c, _ in models),
        "parents_stopped": sum(1 for m in top_tiers if m not in completed),
        "parents": len(top_tiers),
        "best_kept": final[kept[0]] if kept else math.nan,
        "best": final[ranked[0]],
    }


def _order(models: list[Model], lower_is_better: bool) -> Callable[[str], tuple[float, str]]:
    """Sort key: best recorded value first, ties by model id (as the tiers rank)."""
    values = {m: (v if lower_is_better else -v) for m, _, _, v in models}
    return lambda m: (values[m], m)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="run folders grown unpruned")
    parser.add_argument("--pruner", choices=("median", "halving"), default="median")
    parser.add_argument("--warmup", type=int, default=None, help="default: CladeConfig's")
    parser.add_argument("--startup", type=int, default=None, help="default: CladeConfig's")
    args = parser.parse_args(argv)
    rows: dict[str, list[dict]] = {name: [] for name in RULES}
    for folder in args.folders:
        cfg = ExperimentFolder(folder, read_only=True).read_config()
        defaults = CladeConfig()
        cfg = cfg.updated(
            pruner=args.pruner,
            pruner_warmup_epochs=defaults.pruner_warmup_epochs
            if args.warmup is None
            else args.warmup,
            pruner_startup_models=defaults.pruner_startup_models
            if args.startup is None
            else args.startup,
        )
        models = read_run(folder, cfg.selection_metric)
        print(f"{folder.name}: {len(models)} models, {sum(len(c) for _, _, c, _ in models)} epochs")
        for name, rule in RULES.items():
            r = replay(models, cfg, rule)
            rows[name].append(r)
            print(
                f"  {name:9s} stops {r['stopped']:3d}, saves {r['saved']:5.1%} of epochs, "
                f"stops {r['parents_stopped']} of {r['parents']} top-tier parents; "
                f"keeps best {r['best_kept']:.4f} (run's best {r['best']:.4f})"
            )
    if len(args.folders) > 1:
        print("medians over runs:")
        for name, results in rows.items():
            saved = statistics.median(r["saved"] for r in results)
            top = sum(r["parents_stopped"] for r in results)
            parents = sum(r["parents"] for r in results)
            lost = statistics.median(r["best"] - r["best_kept"] for r in results)
            print(
                f"  {name:9s} saves {saved:5.1%}, stops {top} of {parents} top-tier parents "
                f"in all, best lost {lost:.4f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
