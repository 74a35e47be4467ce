"""Parent selection on phenotype tables: validation ranking, tiers, manual ids, bad models."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dlgene_core import CladeConfig, CladeStateError
from dlgene_core.population import rank, select_parents, step_rng, tier_sizes


def _phenotypes(n: int = 10, generation: int = 0) -> pd.DataFrame:
    """Validation accuracy rises with the index, test accuracy falls: ranking on test would
    pick the opposite models."""
    ids = [f"g{generation}-{i:03d}" for i in range(n)]
    val = np.linspace(0.1, 0.9, n)
    return pd.DataFrame(
        {
            "model_id": ids,
            "generation": generation,
            "status": "ok",
            "val_accuracy": val,
            "val_loss": 1.0 - val,
            "test_accuracy": val[::-1],
        }
    )


def test_top_tier_ranks_on_validation_not_test() -> None:
    cfg = CladeConfig(top_tier=0.2, random_tier=0.0)
    chosen = select_parents(_phenotypes(10), cfg, 0)
    assert list(chosen["model_id"]) == ["g0-009", "g0-008"]
    assert set(chosen["reason"]) == {"top"}
    assert list(chosen["metric"]) == ["val_accuracy"] * 2
    np.testing.assert_allclose(chosen["value"], [0.9, 0.1 + 8 * 0.8 / 9], atol=1e-6)


def test_val_loss_ranks_lowest_first() -> None:
    cfg = CladeConfig(top_tier=0.3, random_tier=0.0, selection_metric="val_loss")
    table = _phenotypes(10)
    table["val_loss"] = table["val_loss"][::-1].to_numpy()  # now low loss = low index
    chosen = select_parents(table, cfg, 0)
    assert list(chosen["model_id"]) == ["g0-000", "g0-001", "g0-002"]


def test_random_tier_excludes_the_top_and_follows_the_seed() -> None:
    table = _phenotypes(20)
    cfg = CladeConfig(top_tier=0.2, random_tier=0.25, seed=3)
    chosen = select_parents(table, cfg, 0)
    top = chosen[chosen["reason"] == "top"]["model_id"].tolist()
    rand = chosen[chosen["reason"] == "random"]["model_id"].tolist()
    assert top == ["g0-019", "g0-018", "g0-017", "g0-016"]
    assert len(rand) == 5 and not set(rand) & set(top) and len(set(rand)) == 5
    again = select_parents(table, cfg, 0)
    pd.testing.assert_frame_equal(chosen, again)
    draws = {tuple(select_parents(table, cfg.updated(seed=s), 0)["model_id"][4:]) for s in range(6)}
    assert len(draws) > 1  # the random tier really is random across seeds


def test_tier_sizes_and_overrides() -> None:
    assert tier_sizes(50, 0.2, 0.1) == (10, 5)
    table = _phenotypes(10)
    cfg = CladeConfig()
    chosen = select_parents(table, cfg, 0)  # defaults: 0.2 -> 2 top, 0.1 -> 1 random
    assert (chosen["reason"] == "top").sum() == 2 and (chosen["reason"] == "random").sum() == 1
    chosen = select_parents(table, cfg, 0, top_tier=0.5, random_tier=0.5)
    assert (chosen["reason"] == "top").sum() == 5 and (chosen["reason"] == "random").sum() == 5
    # a tiny top tier still keeps the best model
    chosen = select_parents(table, cfg, 0, top_tier=0.01, random_tier=0.0)
    assert list(chosen["model_id"]) == ["g0-009"]
    with pytest.raises(ValueError, match=r"top_tier=1.5.*\[0, 1\]"):
        select_parents(table, cfg, 0, top_tier=1.5)


def test_manual_ids() -> None:
    table = _phenotypes(10)
    chosen = select_parents(table, CladeConfig(), 0, model_ids=["g0-001", "g0-004", "g0-001"])
    assert list(chosen["model_id"]) == ["g0-001", "g0-004"]
    assert set(chosen["reason"]) == {"manual"}
    np.testing.assert_allclose(
        chosen["value"], table.set_index("model_id").loc[["g0-001", "g0-004"], "val_accuracy"]
    )


def test_unknown_manual_ids_are_named() -> None:
    table = _phenotypes(4)
    with pytest.raises(ValueError, match=r"\['g0-777'\].*allowed: \['g0-000'"):
        select_parents(table, CladeConfig(), 0, model_ids=["g0-001", "g0-777"])
    with pytest.raises(ValueError, match="model_ids"):
        select_parents(table, CladeConfig(), 0, model_ids=[])
    # ids from another generation are unknown in this one
    both = pd.concat([table, _phenotypes(4, generation=1)], ignore_index=True)
    with pytest.raises(ValueError, match="g1-000"):
        select_parents(both, CladeConfig(), 0, model_ids=["g1-000"])


def test_diverged_and_failed_are_never_chosen() -> None:
    table = _phenotypes(10)
    table.loc[9, "status"] = "diverged"  # best val_accuracy, but diverged
    table.loc[8, "status"] = "failed"
    table.loc[8, "val_accuracy"] = math.nan
    table.loc[7, "status"] = "timed_out"  # usable: it has finite metrics
    table.loc[6, "val_accuracy"] = math.nan  # ok status but no metric
    for seed in range(10):
        chosen = select_parents(table, CladeConfig(seed=seed), 0, top_tier=0.3, random_tier=1.0)
        assert not {"g0-009", "g0-008", "g0-006"} & set(chosen["model_id"])
        assert chosen[chosen["reason"] == "top"]["model_id"].tolist() == [
            "g0-007",
            "g0-005",
            "g0-004",
        ]
        assert len(chosen) == 7  # every usable model
    assert list(rank(table, "val_accuracy")["model_id"])[:2] == ["g0-007", "g0-005"]


def test_nothing_usable_or_nothing_grown() -> None:
    table = _phenotypes(3)
    table["status"] = ["failed", "diverged", "failed"]
    with pytest.raises(CladeStateError, match="no model of generation 0 finished"):
        select_parents(table, CladeConfig(), 0)
    with pytest.raises(CladeStateError, match="generation 1 has no grown models"):
        select_parents(_phenotypes(3), CladeConfig(), 1)


def test_step_rng_is_keyed_by_seed_generation_and_step() -> None:
    a = step_rng(1, 2, 3).random(4)
    np.testing.assert_array_equal(a, step_rng(1, 2, 3).random(4))
    for other in ((0, 2, 3), (1, 1, 3), (1, 2, 0)):
        assert not np.array_equal(a, step_rng(*other).random(4))
