"""Run records, per-data-set summaries over seeds, the markdown table and the JSON file."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BASELINE = "dlgene-random"
UNPRUNED = "-unpruned"  # a dlgene tool's twin with pruner="none" (see dlgene_runs)


@dataclass
class RunResult:
    """One tool on one data set with one seed. ``test_accuracy`` is that of the model the
    tool itself picks on validation accuracy, never the best test score."""

    dataset: str
    tool: str
    seed: int
    models: int  # models trained or copied (dlgene), trials (Optuna, RandomSearch), fits (HB)
    configs: int  # distinct configurations among them
    epochs: int  # epochs actually trained, all models together
    wall_s: float
    val_accuracy: float
    test_accuracy: float
    selected: str  # model id / trial number of the pick
    statuses: dict[str, int] = field(default_factory=dict)
    genotype: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(runs: list[RunResult]) -> dict[str, dict[str, dict[str, Any]]]:
    """dataset -> tool -> medians and spreads over seeds, and ratios to random search."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for dataset in dict.fromkeys(r.dataset for r in runs):
        rows = [r for r in runs if r.dataset == dataset]
        by_tool = {t: [r for r in rows if r.tool == t] for t in dict.fromkeys(r.tool for r in rows)}
        out[dataset] = {tool: _tool_summary(tool_runs) for tool, tool_runs in by_tool.items()}
        base = out[dataset].get(BASELINE)
        base_by_seed = {r.seed: r.test_accuracy for r in by_tool.get(BASELINE, [])}
        for tool, summary in out[dataset].items():
            summary["acc_ratio_to_random"] = _ratio(summary, base, "test_median")
            summary["wall_ratio_to_random"] = _ratio(summary, base, "wall_median_s")
            paired = [
                (r.test_accuracy, base_by_seed[r.seed])
                for r in by_tool[tool]
                if r.seed in base_by_seed and math.isfinite(r.test_accuracy)
            ]
            summary["beats_random_seeds"] = sum(a > b + 1e-9 for a, b in paired)
            summary["paired_seeds"] = len(paired)
            twin = by_tool.get(f"{tool}{UNPRUNED}")
            if twin:
                summary["pruning"] = _pruning_summary(by_tool[tool], twin)
    return out


def _pruning_summary(pruned: list[RunResult], unpruned: list[RunResult]) -> dict[str, Any]:
    """What the pruner saved, seed by seed against the same strategy without it: the share
    of epochs not trained and the change in the picked model's test accuracy."""
    twin = {r.seed: r for r in unpruned}
    pairs = [(r, twin[r.seed]) for r in pruned if r.seed in twin]
    saved = [1.0 - a.epochs / b.epochs for a, b in pairs if b.epochs]
    delta = [a.test_accuracy - b.test_accuracy for a, b in pairs]
    return {
        "paired_seeds": len(pairs),
        "epochs_saved_median": _median(saved),
        "epochs_saved_min": float(np.min(saved)) if saved else math.nan,
        "test_delta_median": _median(delta),
        "test_median_pruned": _median([a.test_accuracy for a, _ in pairs]),
        "test_median_unpruned": _median([b.test_accuracy for _, b in pairs]),
    }


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan


def _tool_summary(runs: list[RunResult]) -> dict[str, Any]:
    test = np.array([r.test_accuracy for r in runs], dtype=float)
    finite = test[np.isfinite(test)]
    q = np.percentile(finite, [0, 25, 50, 75, 100]) if len(finite) else [math.nan] * 5
    return {
        "seeds": len(runs),
        "test_median": float(q[2]),
        "test_min": float(q[0]),
        "test_max": float(q[4]),
        "test_q25": float(q[1]),
        "test_q75": float(q[3]),
        "val_median": float(np.nanmedian([r.val_accuracy for r in runs])),
        "wall_median_s": float(np.median([r.wall_s for r in runs])),
        "epochs_median": float(np.median([r.epochs for r in runs])),
        "models_median": float(np.median([r.models for r in runs])),
        "configs_median": float(np.median([r.configs for r in runs])),
        "pruned_median": float(np.median([r.statuses.get("pruned", 0) for r in runs])),
    }


def _ratio(summary: dict[str, Any], base: dict[str, Any] | None, key: str) -> float:
    if base is None or not base[key] or not math.isfinite(base[key]):
        return math.nan
    return float(summary[key] / base[key])


def markdown(summary: dict[str, dict[str, dict[str, Any]]], default_tool: str) -> str:
    """One table per data set; the default dlgene strategy is marked with *."""
    parts = []
    for dataset, tools in summary.items():
        parts.append(f"### {dataset}\n")
        parts.append(
            "| tool | seeds | test acc (median) | min-max | IQR | wall s (median) "
            "| epochs (median) | models | pruned | acc / random | wall / random "
            "| > random (paired) |"
        )
        parts.append("| --- " * 12 + "|")
        for tool, s in tools.items():
            name = f"{tool} *" if tool == default_tool else tool
            models = f"{s['models_median']:g}"
            if s["configs_median"] != s["models_median"]:
                models += f" ({s['configs_median']:g} configs)"
            parts.append(
                f"| {name} | {s['seeds']} | {_f(s['test_median'])} "
                f"| {_f(s['test_min'])}-{_f(s['test_max'])} "
                f"| {_f(s['test_q25'])}-{_f(s['test_q75'])} | {s['wall_median_s']:.1f} "
                f"| {s['epochs_median']:g} | {models} | {s['pruned_median']:g} "
                f"| {_f(s['acc_ratio_to_random'], 3)} | {_f(s['wall_ratio_to_random'], 2)} "
                f"| {s['beats_random_seeds']}/{s['paired_seeds']} |"
            )
        parts.append("")
        parts.extend(_pruning_lines(tools))
    return "\n".join(parts)


def _pruning_lines(tools: dict[str, dict[str, Any]]) -> list[str]:
    rows = [(tool, s["pruning"]) for tool, s in tools.items() if "pruning" in s]
    if not rows:
        return []
    lines = [
        "| pruner on vs off (paired seeds) | seeds | epochs saved (median, min) "
        "| test acc on / off (medians) | test change (median of pairs) |",
        "| --- " * 5 + "|",
    ]
    for tool, p in rows:
        lines.append(
            f"| {tool} | {p['paired_seeds']} "
            f"| {p['epochs_saved_median']:.0%}, {p['epochs_saved_min']:.0%} "
            f"| {_f(p['test_median_pruned'])} / {_f(p['test_median_unpruned'])} "
            f"| {p['test_delta_median']:+.4f} |"
        )
    return [*lines, ""]


def _f(value: float, digits: int = 4) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def write_json(path: str | os.PathLike, document: dict[str, Any]) -> None:
    """Write atomically (a partial file never replaces a good one); NaN becomes null."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(_no_nan(document), indent=2, sort_keys=False) + "\n")
    os.replace(tmp, target)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | np.bool_):
        return _no_nan(value.item())
    return value
