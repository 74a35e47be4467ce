"""Non-dominated sorting and crowding distance: hand-computed cases and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dlgene_core import population
from dlgene_core.pareto import (
    crowding_distance,
    dominates,
    non_dominated_sort,
    pareto_front,
    rank_by_objectives,
    tie_break_column,
)

TWO = [("val_accuracy", "max"), ("n_params", "min")]


def _fronts(values, directions) -> list[list[int]]:
    return [list(map(int, f)) for f in non_dominated_sort(np.array(values), directions)]


def test_fronts_of_a_hand_computed_set() -> None:
    # (accuracy max, params min): 0 and 1 and 3 trade off; 2 is beaten by 1; 4 by 2 and 1
    values = [[0.9, 100], [0.8, 50], [0.7, 60], [0.6, 10], [0.5, 70]]
    assert _fronts(values, ["max", "min"]) == [[0, 1, 3], [2], [4]]
    # both minimised, the same points give other fronts
    assert _fronts(values, ["min", "min"]) == [[3, 4], [1, 2], [0]]


def test_equal_points_share_a_front_and_one_objective_orders_by_value() -> None:
    assert _fronts([[1.0, 2.0], [1.0, 2.0], [2.0, 3.0]], ["min", "min"]) == [[0, 1], [2]]
    assert _fronts([[0.3], [0.9], [0.5], [0.9]], ["max"]) == [[1, 3], [2], [0]]
    assert non_dominated_sort(np.zeros((0, 2)), ["max", "min"]) == []


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="directions"):
        non_dominated_sort(np.ones((2, 1)), ["up"])
    with pytest.raises(ValueError, match="shape"):
        non_dominated_sort(np.ones((2, 3)), ["max", "min"])
    with pytest.raises(ValueError, match="finite"):
        non_dominated_sort(np.array([[np.nan, 1.0]]), ["max", "min"])


def test_crowding_distance_by_hand() -> None:
    # sorted on x: 0, 1, 3, 6 (range 6); on y: 6, 4, 1, 0 (range 6)
    values = np.array([[0.0, 6.0], [1.0, 4.0], [3.0, 1.0], [6.0, 0.0]])
    distance = crowding_distance(values)
    assert np.isinf(distance[[0, 3]]).all()
    assert distance[1] == pytest.approx(3 / 6 + 5 / 6)
    assert distance[2] == pytest.approx(5 / 6 + 4 / 6)
    assert np.isinf(crowding_distance(np.array([[1.0, 2.0], [3.0, 4.0]]))).all()
    # a flat objective adds nothing
    assert crowding_distance(np.array([[0.0, 1.0], [1.0, 1.0], [4.0, 1.0]]))[1] == 1.0


points = arrays(
    float,
    st.tuples(st.integers(1, 30), st.integers(1, 3)),
    elements=st.integers(0, 6).map(float),  # small integers: many ties and equal points
)


@settings(max_examples=150, deadline=None)
@given(points, st.data())
def test_fronts_partition_and_respect_dominance(values: np.ndarray, data) -> None:
    directions = data.draw(
        st.lists(
            st.sampled_from(["max", "min"]), min_size=values.shape[1], max_size=values.shape[1]
        )
    )
    fronts = non_dominated_sort(values, directions)
    flat = np.concatenate(fronts)
    assert sorted(flat.tolist()) == list(range(len(values)))  # a partition
    minimised = values * np.where(np.array(directions) == "max", -1.0, 1.0)
    first = set(fronts[0].tolist())
    for i in first:  # no member of the first front is dominated by any point
        assert not any(dominates(minimised[j], minimised[i]) for j in range(len(values)))
    for i in set(range(len(values))) - first:  # every non-member is dominated by some point
        assert any(dominates(minimised[j], minimised[i]) for j in range(len(values)))
    for k in range(1, len(fronts)):  # each later member is dominated by the front before it
        for i in fronts[k]:
            assert any(dominates(minimised[j], minimised[i]) for j in fronts[k - 1])


@settings(max_examples=100, deadline=None)
@given(points)
def test_crowding_boundaries_are_infinite(values: np.ndarray) -> None:
    distance = crowding_distance(values)
    assert distance.shape == (len(values),)
    assert (distance >= 0).all()
    for k in range(values.shape[1]):
        order = np.argsort(values[:, k], kind="stable")
        assert np.isinf(distance[order[0]]) and np.isinf(distance[order[-1]])


def _phenotypes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_id": [f"g0-{i:03d}" for i in range(7)],
            "status": ["ok", "ok", "timed_out", "ok", "ok", "pruned", "failed"],
            "val_accuracy": [0.9, 0.8, 0.7, 0.6, np.nan, 0.95, 0.99],
            "val_loss": [0.3, 0.5, 0.6, 0.9, np.nan, 0.1, 0.01],
            "n_params": [100, 50, 60, 10, 5, 1, 1],
        }
    )


def test_pareto_front_of_a_table() -> None:
    front = pareto_front(_phenotypes(), TWO)
    # the pruned and failed models and the NaN row never join; g0-002 is beaten by g0-001
    assert list(front["model_id"]) == ["g0-000", "g0-001", "g0-003"]
    assert list(pareto_front(_phenotypes(), [("val_accuracy", "max")])["model_id"]) == ["g0-000"]


def test_one_objective_ranks_exactly_as_population_rank() -> None:
    table = _phenotypes()
    table.loc[3, "val_accuracy"] = 0.9  # a tie, broken by model id
    for metric, direction in (("val_accuracy", "max"), ("val_loss", "min")):
        expected = population.rank(table, metric)
        got = rank_by_objectives(table, [(metric, direction)])
        pd.testing.assert_frame_equal(got, expected)


def test_the_pick_breaks_a_tie_on_one_objective_by_the_validation_loss() -> None:
    table = _phenotypes()
    table.loc[3, "val_accuracy"] = table.loc[0, "val_accuracy"]  # g0-003 ties g0-000 on top
    table.loc[3, "val_loss"] = table.loc[0, "val_loss"] - 0.1  # ... with a lower loss
    objective = [("val_accuracy", "max")]
    assert list(rank_by_objectives(table, objective)["model_id"][:2]) == ["g0-000", "g0-003"]
    picked = rank_by_objectives(table, objective, break_ties=True)
    assert list(picked["model_id"][:2]) == ["g0-003", "g0-000"]
    assert sorted(picked["model_id"]) == sorted(rank_by_objectives(table, objective)["model_id"])
    table.loc[3, "val_loss"] = np.nan  # no loss recorded: after the tied models that have one
    picked = rank_by_objectives(table, objective, break_ties=True)
    assert list(picked["model_id"][:2]) == ["g0-000", "g0-003"]
    # the loss itself, or several objectives, have nothing to break ties with
    assert tie_break_column(table, [("val_loss", "min")]) is None
    assert tie_break_column(table, TWO) is None
    assert tie_break_column(table.drop(columns="val_loss"), objective) is None


def test_two_objectives_rank_by_front_then_crowding_and_pruned_last() -> None:
    ranked = rank_by_objectives(_phenotypes(), TWO, with_scores=True)
    # front 0: g0-000, g0-001, g0-003 (ends infinite first, by id), then g0-002; pruned last
    assert list(ranked["model_id"]) == ["g0-000", "g0-003", "g0-001", "g0-002", "g0-005"]
    assert list(ranked["front"]) == [0, 0, 0, 1, 0]
    assert np.isinf(ranked["crowding"].iloc[:2]).all()
    assert np.isfinite(ranked["crowding"].iloc[2])
