"""Several objectives at once: non-dominated sorting and crowding distance (NSGA-II).

Pure functions on arrays (Deb, Pratap, Agarwal and Meyarivan 2002, "A fast and elitist
multiobjective genetic algorithm: NSGA-II"), plus the table-level helpers the clade and the
``nsga2`` strategy share: ``pareto_front`` (the models no other model beats on every
objective) and ``rank_by_objectives`` (best first: front, then crowding). One objective
ranks exactly as :func:`dlgene_core.population.rank` did, by value then model id.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .records import RANKED_AFTER_USABLE, USABLE_STATUSES

Objectives = Sequence[tuple[str, str]]  # (phenotype column, "max" | "min")
DIRECTIONS = ("max", "min")


def _as_minimised(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """``values`` (n points x m objectives) turned so that lower is better everywhere."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != len(directions):
        raise ValueError(
            f"values of shape {values.shape}; allowed: (points, {len(directions)}) for "
            f"directions {list(directions)}"
        )
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad:
        raise ValueError(f"directions {bad}; allowed: {', '.join(DIRECTIONS)}")
    if not np.all(np.isfinite(values)):
        raise ValueError("values: NaN or infinite entries; allowed: finite numbers only")
    signs = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    return values * signs


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Minimised points: ``a`` is no worse than ``b`` everywhere and better somewhere."""
    return bool(np.all(a <= b) and np.any(a < b))


def non_dominated_sort(values: np.ndarray, directions: Sequence[str]) -> list[np.ndarray]:
    """Fronts of point indices, best first (Deb's fast non-dominated sort, O(m n^2)).

    Front 0 holds the points no other point dominates; front k those dominated only by
    points of earlier fronts. Indices inside a front are ascending; equal points share one.
    """
    points = _as_minimised(values, directions)
    n = len(points)
    if n == 0:
        return []
    # no_worse[i, j]: i is <= j on every objective; better[i, j]: i < j on some objective
    no_worse = np.all(points[:, None, :] <= points[None, :, :], axis=2)
    better = np.any(points[:, None, :] < points[None, :, :], axis=2)
    dominance = no_worse & better  # dominance[i, j]: i dominates j
    dominated_by = dominance.sum(axis=0)  # how many points dominate j
    fronts: list[np.ndarray] = []
    current = np.flatnonzero(dominated_by == 0)
    while current.size:
        fronts.append(current)
        dominated_by = dominated_by - dominance[current].sum(axis=0)
        dominated_by[current] = -1  # placed: counts only fall, so never 0 again
        current = np.flatnonzero(dominated_by == 0)
    return fronts


def crowding_distance(values: np.ndarray) -> np.ndarray:
    """Crowding distance of each point of one front: per objective, the gap between its two
    neighbours over the objective's range, summed; the extreme points are infinite, so a
    front's ends survive truncation. Direction does not matter (distances only)."""
    points = np.asarray(values, dtype=float)
    if points.ndim != 2:
        raise ValueError(f"values of shape {points.shape}; allowed: (points, objectives)")
    n, m = points.shape
    distance = np.zeros(n)
    if n <= 2:
        distance[:] = np.inf
        return distance
    for k in range(m):
        order = np.argsort(points[:, k], kind="stable")
        column = points[order, k]
        distance[order[0]] = distance[order[-1]] = np.inf
        span = column[-1] - column[0]
        if span > 0:
            distance[order[1:-1]] += (column[2:] - column[:-2]) / span
    return distance


def fronts_and_crowding(values: np.ndarray, directions: Sequence[str]) -> tuple[np.ndarray, ...]:
    """Per point: its front number (0 best) and its crowding distance within that front."""
    n = len(values)
    front = np.zeros(n, dtype=int)
    crowding = np.zeros(n)
    points = np.asarray(values, dtype=float).reshape(n, len(directions))
    for number, members in enumerate(non_dominated_sort(points, directions)):
        front[members] = number
        crowding[members] = crowding_distance(points[members])
    return front, crowding


def _finite_rows(table: pd.DataFrame, objectives: Objectives) -> pd.DataFrame:
    columns = [c for c, _ in objectives]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"objectives {missing}: not columns of the phenotypes table")
    values = table[columns].astype(float).to_numpy()
    return table[np.all(np.isfinite(values), axis=1)]


def _rank_part(part: pd.DataFrame, objectives: Objectives) -> pd.DataFrame:
    """One status group best first, with ``front`` and ``crowding`` columns."""
    columns = [c for c, _ in objectives]
    if len(objectives) == 1:
        ((column, direction),) = objectives
        ranked = part.sort_values([column, "model_id"], ascending=[direction == "min", True])
        return ranked.assign(front=_tie_fronts(ranked[column]), crowding=np.inf)
    front, crowding = fronts_and_crowding(
        part[columns].astype(float).to_numpy(), [d for _, d in objectives]
    )
    ranked = part.assign(front=front, crowding=crowding)
    return ranked.sort_values(["front", "crowding", "model_id"], ascending=[True, False, True])


def _tie_fronts(sorted_values: pd.Series) -> np.ndarray:
    """One objective: each distinct value (best first) is one front."""
    values = sorted_values.astype(float).to_numpy()
    if len(values) == 0:
        return np.zeros(0, dtype=int)
    return np.concatenate([[0], np.cumsum(values[1:] != values[:-1])]).astype(int)


def rank_by_objectives(
    phenotypes: pd.DataFrame, objectives: Objectives, with_scores: bool = False
) -> pd.DataFrame:
    """Usable models best first (front, then larger crowding, then model id), pruned models
    after them ranked the same way among themselves; rows with a missing objective value are
    left out. ``with_scores`` keeps the ``front`` and ``crowding`` columns."""
    parts = []
    for statuses in (USABLE_STATUSES, RANKED_AFTER_USABLE):
        part = phenotypes[phenotypes["status"].isin(statuses)]
        parts.append(_rank_part(_finite_rows(part, objectives), objectives))
    ranked = pd.concat([p for p in parts if len(p)]) if any(len(p) for p in parts) else parts[0]
    return ranked if with_scores else ranked.drop(columns=["front", "crowding"])


def pareto_front(phenotypes: pd.DataFrame, objectives: Objectives) -> pd.DataFrame:
    """The usable models no other usable model dominates, best first by the first objective
    (then model id); one objective gives the models that share the best value."""
    usable = phenotypes[phenotypes["status"].isin(USABLE_STATUSES)]
    ranked = _rank_part(_finite_rows(usable, objectives), objectives)
    front = ranked[ranked["front"] == 0].drop(columns=["front", "crowding"])
    column, direction = objectives[0]
    return front.sort_values([column, "model_id"], ascending=[direction == "min", True])
