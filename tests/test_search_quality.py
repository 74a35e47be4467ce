"""benchmarks/search_quality.py's pieces that need no training: the search space the peers
are given is dlgene's (same genes, bounds and priors), and the summary arithmetic."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from searchbench.report import RunResult, markdown, summarize, write_json
from searchbench.space import sample_genotype

from dlgene_core.config import CladeConfig
from dlgene_core.families import get_family
from dlgene_core.genes import Gene
from dlgene_core.operators import violations


class RandomAsk:
    """A stand-in tool: uniform draws (log scales ignored), recording every name asked."""

    def __init__(self, seed: int, draws_inactive: bool):
        self.rng = np.random.default_rng(seed)
        self.draws_inactive = draws_inactive
        self.names: list[str] = []

    def int(self, name, low, high, log):
        self.names.append(name)
        return int(self.rng.integers(low, high + 1))

    def float(self, name, low, high, log):
        self.names.append(name)
        return float(self.rng.uniform(low, high))

    def choice(self, name, options):
        self.names.append(name)
        return options[int(self.rng.integers(len(options)))]


def _configs(kind: str) -> list[CladeConfig]:
    configs = [CladeConfig(kind=kind)]
    if hasattr(CladeConfig, "from_preset"):  # the search presets, where this dlgene has them
        configs.append(CladeConfig.from_preset("classic", kind=kind))
    return configs


@pytest.mark.parametrize("kind", ["GAFC1", "GACNN1"])
@pytest.mark.parametrize("draws_inactive", [False, True])
def test_sampled_genotypes_lie_in_the_dlgene_space(kind, draws_inactive):
    family = get_family(kind)
    for cfg in _configs(kind):
        for seed in range(150):
            genotype = sample_genotype(family, cfg, RandomAsk(seed, draws_inactive))
            assert violations(family, genotype, cfg) == [], genotype


def test_keras_tuner_mode_asks_every_block_and_optuna_mode_only_used_ones():
    cfg = CladeConfig(kind="GAFC1", nb_layers=(1, 4))
    family = get_family("GAFC1")
    for draws_inactive in (False, True):
        for seed in range(30):
            ask = RandomAsk(seed, draws_inactive)
            genotype = sample_genotype(family, cfg, ask)
            deepest = max(
                int(n.split(".")[1])
                for n in ask.names
                if n.startswith("layers.") and n.split(".")[1].isdigit()
            )
            expected = 3 if draws_inactive else len(genotype["layers"]) - 1
            assert deepest == expected
            assert 1 <= len(genotype["layers"]) <= 4


def test_fixed_genes_are_not_asked():
    family = get_family("GAFC1")
    ask = RandomAsk(0, True)
    genotype = sample_genotype(family, CladeConfig(), ask, fixed={"epochs": 17})
    assert genotype["epochs"] == 17 and "epochs" not in ask.names


def test_regularizer_and_chance_priors_match_dlgene():
    """Uniform draws map through dlgene's probabilities: P(none) = 1 - regularizer_chance and
    the kinds keep their weights; a chance gene is on with its chance."""
    cfg = CladeConfig(
        kind="GACNN1",
        regularizer_chance=0.4,
        regularizers={"l1": 0.25, "l2": 0.25, "dropout": 0.5},
        batchnorm_chance=0.7,
        conv_blocks=(1, 1),
        head_layers=(0, 0),
    )
    family = get_family("GACNN1")
    kinds, batchnorm = [], []
    for seed in range(4000):
        block = sample_genotype(family, cfg, RandomAsk(seed, False))["conv"][0]
        kinds.append(block["regularizer"])
        batchnorm.append(block["batchnorm"])
    share = {k: kinds.count(k) / len(kinds) for k in ("none", "l1", "l2", "dropout")}
    assert share["none"] == pytest.approx(0.6, abs=0.03)
    assert share["dropout"] == pytest.approx(0.2, abs=0.03)
    assert share["l1"] == pytest.approx(0.1, abs=0.02)
    assert np.mean(batchnorm) == pytest.approx(0.7, abs=0.03)


def test_an_unknown_gene_kind_is_named():
    class OddGene(Gene):
        fields = ("odd",)

    family = get_family("GAFC1")
    odd = type(family)()
    odd.scalar_genes = (*family.scalar_genes, OddGene())
    with pytest.raises(TypeError, match=r"OddGene.*cannot express"):
        sample_genotype(odd, CladeConfig(), RandomAsk(0, False))


def test_real_optuna_and_keras_tuner_parameters_give_dlgene_genotypes():
    optuna = pytest.importorskip("optuna")
    kt = pytest.importorskip("keras_tuner")
    from searchbench.space import KerasTunerAsk, OptunaAsk

    family = get_family("GACNN1")
    cfg = CladeConfig(kind="GACNN1")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        genotype = sample_genotype(family, cfg, OptunaAsk(study.ask()))
        assert violations(family, genotype, cfg) == []
    hp = kt.HyperParameters()
    genotype = sample_genotype(family, cfg, KerasTunerAsk(hp))
    assert violations(family, genotype, cfg) == []
    assert f"conv.{cfg.conv_blocks[1] - 1}.filters" in hp.values  # whole space registered


def _run(tool: str, seed: int, test: float, wall: float) -> RunResult:
    return RunResult("wine", tool, seed, 8, 8, 40, wall, 0.9, test, "m")


def test_summary_medians_ratios_and_paired_wins(tmp_path):
    runs = [
        _run("dlgene-random", 0, 0.80, 10.0),
        _run("dlgene-random", 1, 0.90, 30.0),
        _run("dlgene-random", 2, 0.70, 20.0),
        _run("optuna-tpe", 0, 0.85, 5.0),
        _run("optuna-tpe", 1, 0.88, 15.0),
        _run("optuna-tpe", 2, math.nan, 10.0),
    ]
    summary = summarize(runs)["wine"]
    assert summary["dlgene-random"]["test_median"] == pytest.approx(0.80)
    assert summary["dlgene-random"]["test_min"] == pytest.approx(0.70)
    assert summary["optuna-tpe"]["test_median"] == pytest.approx(0.865)  # NaN run left out
    assert summary["optuna-tpe"]["acc_ratio_to_random"] == pytest.approx(0.865 / 0.80)
    assert summary["optuna-tpe"]["wall_ratio_to_random"] == pytest.approx(10.0 / 20.0)
    assert summary["optuna-tpe"]["beats_random_seeds"] == 1  # seed 0 won, seed 1 lost
    assert summary["optuna-tpe"]["paired_seeds"] == 2
    table = markdown({"wine": summary}, "dlgene-random")
    assert "| dlgene-random * |" in table and "| optuna-tpe |" in table
    path = tmp_path / "r.json"
    write_json(path, {"runs": [r.to_dict() for r in runs], "summary": {"wine": summary}})
    loaded = json.loads(path.read_text())
    assert loaded["runs"][5]["test_accuracy"] is None  # NaN is JSON null


def test_pruning_is_measured_seed_by_seed_against_the_unpruned_twin():
    runs = [
        _run("dlgene-tiers", 0, 0.80, 10.0),
        _run("dlgene-tiers", 1, 0.90, 10.0),
        _run("dlgene-tiers-unpruned", 0, 0.81, 10.0),
        _run("dlgene-tiers-unpruned", 1, 0.90, 10.0),
    ]
    runs[0].epochs, runs[1].epochs, runs[2].epochs, runs[3].epochs = 60, 90, 100, 100
    summary = summarize(runs)["wine"]
    pruning = summary["dlgene-tiers"]["pruning"]
    assert pruning["paired_seeds"] == 2
    assert pruning["epochs_saved_median"] == pytest.approx(0.25)  # 40% and 10% saved
    assert pruning["epochs_saved_min"] == pytest.approx(0.10)
    assert pruning["test_delta_median"] == pytest.approx(-0.005)  # -0.01 and 0.0
    assert "pruning" not in summary["dlgene-tiers-unpruned"]
    table = markdown({"wine": summary}, "dlgene-tiers")
    assert "| dlgene-tiers | 2 | 25%, 10% | 0.8500 / 0.8550 | -0.0050 |" in table


def test_a_workdir_that_already_holds_the_runs_is_refused_before_any_training(tmp_path):
    import search_quality

    argv = ["--datasets", "digits", "--tools", "dlgene-tiers", "optuna-tpe", "--seeds", "2"]
    argv += ["--workdir", str(tmp_path)]
    args = search_quality.parse_args(argv)
    assert search_quality.occupied_folders(args, tmp_path) == []
    (tmp_path / "digits-seed1-data").mkdir()
    (tmp_path / "digits-seed0-dlgene-tiers").mkdir()
    (tmp_path / "digits-seed0-optuna-tpe").mkdir()  # peers keep no run folder of this name
    taken = search_quality.occupied_folders(args, tmp_path)
    assert taken == ["digits-seed0-dlgene-tiers", "digits-seed1-data"]
    with pytest.raises(SystemExit, match="already holds digits-seed0-dlgene-tiers, digits-seed1"):
        search_quality.main(argv)
