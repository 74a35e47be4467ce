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
TIE_BREAK = "val_loss"  # orders the models tied on a single objective when ranking the pick


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


def _objective_values(table: pd.DataFrame, objectives: Objectives) -> np.ndarray:
    columns = [c for c, _ in objectives]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"objectives {missing}: not columns of the phenotypes table")
    return table[columns].astype(float).to_numpy()


def _rank_rows(
    rows: np.ndarray,
    values: np.ndarray,
    ids: np.ndarray,
    directions: Sequence[str],
    ties: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` (positions) best first, with their fronts and crowding distances; equal
    values of one objective are ordered by ``ties`` (lower first), then model id."""
    if len(directions) == 1:
        signed = values[rows, 0] if directions[0] == "min" else -values[rows, 0]
        order = rows[np.lexsort((ids[rows], ties[rows], signed))]
        ordered = values[order, 0]
        changes = np.cumsum(ordered[1:] != ordered[:-1]) if len(order) else np.zeros(0)
        front = np.concatenate([[0] if len(order) else [], changes]).astype(int)
        return order, front, np.full(len(order), np.inf)
    front, crowding = fronts_and_crowding(values[rows], directions)
    local = np.lexsort((ids[rows], -crowding, front))
    return rows[local], front[local], crowding[local]


def tie_break_column(phenotypes: pd.DataFrame, objectives: Objectives) -> str | None:
    """The column that orders models tied on a single objective: the validation loss.

    A validation split of a hundred-odd samples gives accuracy in steps of one sample, and
    the best models of a search often share the top value; the loss on the same split still
    tells them apart (how confident and how right), where the model id (oldest first) says
    nothing about the model. None for several objectives (crowding orders a front) or when
    the objective is the loss itself or no loss was recorded."""
    if len(objectives) != 1 or objectives[0][0] == TIE_BREAK or TIE_BREAK not in phenotypes:
        return None
    return TIE_BREAK


def ranked_positions(
    phenotypes: pd.DataFrame,
    objectives: Objectives,
    statuses: Sequence[frozenset[str]],
    tie_break: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of the models ranked best first, one status group after another
    (front, then larger crowding, then model id; one objective: value, then ``tie_break``
    (lower first, missing last) if given, then model id), with each one's front and
    crowding distance. Rows missing an objective value are left out.

    Plain numpy on the objective columns, then one row take by the caller: the panels rank
    the run after every finished model, and sorting whole frames of text columns cost tens
    of milliseconds each time."""
    values = _objective_values(phenotypes, objectives)
    directions = [d for _, d in objectives]
    status = phenotypes["status"].to_numpy(dtype=object)
    ids = phenotypes["model_id"].to_numpy(dtype=object).astype(str)
    finite = np.all(np.isfinite(values), axis=1)
    ties = np.zeros(len(phenotypes))
    if tie_break is not None:
        ties = phenotypes[tie_break].astype(float).to_numpy()
        ties = np.where(np.isfinite(ties), ties, np.inf)
    parts = [
        _rank_rows(
            np.flatnonzero(np.isin(status, list(group)) & finite), values, ids, directions, ties
        )
        for group in statuses
    ]
    order, front, crowding = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return order.astype(int), front.astype(int), crowding.astype(float)


def rank_by_objectives(
    phenotypes: pd.DataFrame,
    objectives: Objectives,
    with_scores: bool = False,
    break_ties: bool = False,
) -> pd.DataFrame:
    """Usable models best first (front, then larger crowding, then model id), pruned models
    after them ranked the same way among themselves; rows with a missing objective value are
    left out. ``with_scores`` keeps the ``front`` and ``crowding`` columns. ``break_ties``
    orders models tied on a single objective by :func:`tie_break_column` (the pick of the
    run; parent selection keeps the model-id order its strategies have always used)."""
    tie_break = tie_break_column(phenotypes, objectives) if break_ties else None
    order, front, crowding = ranked_positions(
        phenotypes, objectives, (USABLE_STATUSES, RANKED_AFTER_USABLE), tie_break
    )
    ranked = phenotypes.iloc[order]
    return ranked.assign(front=front, crowding=crowding) if with_scores else ranked


def pareto_front(phenotypes: pd.DataFrame, objectives: Objectives) -> pd.DataFrame:
    """The usable models no other usable model dominates, best first by the first objective
    (then model id); one objective gives the models that share the best value."""
    order, front, _ = ranked_positions(phenotypes, objectives, (USABLE_STATUSES,))
    members = order[front == 0]
    values = _objective_values(phenotypes, objectives[:1])[members, 0]
    ids = phenotypes["model_id"].to_numpy(dtype=object).astype(str)[members]
    signed = values if objectives[0][1] == "min" else -values
    return phenotypes.iloc[members[np.lexsort((ids, signed))]]
