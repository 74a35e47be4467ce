"""Generation 0 is pruned too: its first ``pruner_startup_models`` models train unpruned and
give the reference curves, then the rest of the generation gets thresholds made from them.

A recording executor stands in for training (fast, and it sees exactly which jobs were
handed over together and with which thresholds)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from dlgene_core import GAFC1, CladeConfig
from dlgene_core.executors import Executor
from dlgene_core.pruning import prune_thresholds
from dlgene_core.records import ModelResult

SPACE = {
    "population_size": 8,
    "generations": 2,
    "nb_layers": (1, 1),
    "nb_units": (4, 64),
    "epochs": (4, 6),
    "seed": 5,
    "pruner": "median",
    "pruner_startup_models": 3,
    "pruner_warmup_epochs": 1,
}


def _curve(model_id: str) -> list[float]:
    """A distinct rising validation curve per model: model k reaches 0.1 * (k + 1) + ..."""
    k = int(model_id.rsplit("-", 1)[1])
    return [0.05 * (k + 1) + 0.1 * epoch for epoch in range(4)]


class RecordingExecutor(Executor):
    """Finishes every job at once with a made-up curve; remembers each handed-over batch."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, list[float]]]] = []

    def run(self, jobs, data_spec, on_event, on_result, should_stop) -> None:
        jobs = list(jobs)
        self.batches.append([(j.model_id, list(j.prune_thresholds)) for j in jobs])
        for job in jobs:
            curve = _curve(job.model_id)
            epochs = pd.DataFrame({"epoch": range(len(curve)), "val_accuracy": curve})
            phenotype: dict[str, Any] = {
                "model_id": job.model_id,
                "generation": job.generation,
                "status": "ok",
                "val_accuracy": curve[-1],
                "val_loss": 1.0 - curve[-1],
                "epochs_run": len(curve),
            }
            on_result(ModelResult(job.model_id, phenotype, pd.DataFrame(), epochs))


def _reference(cfg: CladeConfig, model_ids: list[str]) -> list[float]:
    return prune_thresholds(cfg, [_curve(m) for m in model_ids])


def _same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y)
        for x, y in zip(a, b, strict=True)
    )


def test_generation_zero_trains_its_startup_block_first_then_prunes_the_rest(tmp_path):
    cfg = CladeConfig(**SPACE)
    runner = RecordingExecutor()
    with GAFC1(cfg, data="digits", folder=tmp_path / "run") as clade:
        clade.spawn()
        clade.grow_models(executor=runner)
    block = ["g0-000", "g0-001", "g0-002"]
    first, rest = runner.batches
    assert [m for m, _ in first] == block
    assert all(t == [] for _, t in first)  # the block itself is never pruned
    assert [m for m, _ in rest] == [f"g0-{i:03d}" for i in range(3, 8)]
    expected = _reference(cfg, block)
    assert math.isnan(expected[0]) and math.isfinite(expected[1])  # warm-up, then checks
    assert all(_same(t, expected) for _, t in rest)


def test_a_partly_grown_block_finishes_first_after_a_resume(tmp_path):
    cfg = CladeConfig(**SPACE)
    folder = tmp_path / "run"
    with GAFC1(cfg, data="digits", folder=folder) as clade:
        clade.spawn()
        clade.grow_models(executor=RecordingExecutor(), model_ids=["g0-000", "g0-001"])
    runner = RecordingExecutor()
    with GAFC1.open(folder) as reopened:
        reopened.grow_models(executor=runner)
    first, rest = runner.batches
    assert first == [("g0-002", [])]
    expected = _reference(cfg, ["g0-000", "g0-001", "g0-002"])
    assert [m for m, _ in rest] == [f"g0-{i:03d}" for i in range(3, 8)]
    assert all(_same(t, expected) for _, t in rest)


def test_later_generations_compare_with_earlier_ones_in_one_batch(tmp_path):
    cfg = CladeConfig(**SPACE)
    runner = RecordingExecutor()
    with GAFC1(cfg, data="digits", folder=tmp_path / "run") as clade:
        clade.evolve(executor=runner)
        assert clade.generation == 1
    assert len(runner.batches) == 3  # block, rest of generation 0, generation 1 whole
    expected = _reference(cfg, [f"g0-{i:03d}" for i in range(8)])
    generation_1 = runner.batches[2]
    assert generation_1 and all(m.startswith("g1-") for m, _ in generation_1)
    assert all(_same(t, expected) for _, t in generation_1)


def test_without_a_pruner_a_generation_goes_to_the_executor_at_once(tmp_path):
    cfg = CladeConfig(**{**SPACE, "pruner": "none"})
    runner = RecordingExecutor()
    with GAFC1(cfg, data="digits", folder=tmp_path / "run") as clade:
        clade.spawn()
        clade.grow_models(executor=runner)
    assert len(runner.batches) == 1 and len(runner.batches[0]) == 8
    assert all(t == [] for _, t in runner.batches[0])
