"""The peers: Optuna TPE + MedianPruner, KerasTuner RandomSearch and Hyperband.

Each samples a dlgene genotype (:mod:`.space`), builds it with dlgene's ``family.build`` and
trains it with :func:`.training.fit_and_score`, so the three differ from dlgene only in how
they choose what to train. Every trial gets its own Keras seed from the run's seed. Selection
is each tool's own, on validation accuracy: Optuna's best complete trial, KerasTuner's best
trial by its objective; the test accuracy of that pick is what the run reports.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import keras

from dlgene_core.config import CladeConfig
from dlgene_core.data import Dataset
from dlgene_core.families import get_family
from dlgene_core.trainer import model_seed

from .report import RunResult
from .space import KerasTunerAsk, OptunaAsk, sample_genotype
from .training import fit_and_score

PEER_TOOLS = ("optuna-tpe", "kt-random", "kt-hyperband")


class DivergedError(RuntimeError):
    """A model's loss became NaN: KerasTuner records the trial as failed (dlgene: diverged)."""


def run_peer(
    tool: str, cfg: CladeConfig, dataset: Dataset, n_models: int, seed: int, workdir: Path
) -> RunResult:
    if tool == "optuna-tpe":
        return run_optuna(cfg, dataset, n_models, seed)
    if tool in ("kt-random", "kt-hyperband"):
        return run_keras_tuner(tool, cfg, dataset, n_models, seed, workdir)
    raise ValueError(f"tool {tool!r}: allowed peers {', '.join(PEER_TOOLS)}")


# ---------------------------------------------------------------------- Optuna
class _OptunaReporter(keras.callbacks.Callback):
    """trial.report(val_accuracy, epoch) after every epoch; stop the fit if it should prune."""

    def __init__(self, trial: Any):
        super().__init__()
        self.trial = trial
        self.pruned = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = float((logs or {}).get("val_accuracy", math.nan))
        if not math.isfinite(value):
            return
        self.trial.report(value, epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


def _pruner_settings(cfg: CladeConfig) -> dict[str, int]:
    """dlgene's pruner warm-up and start-up where this dlgene has them, else Optuna's
    MedianPruner defaults (5 start-up trials, no warm-up)."""
    return {
        "n_startup_trials": int(getattr(cfg, "pruner_startup_models", 5)),
        "n_warmup_steps": int(getattr(cfg, "pruner_warmup_epochs", 0)),
    }


def run_optuna(cfg: CladeConfig, dataset: Dataset, n_models: int, seed: int) -> RunResult:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    family = get_family(cfg.kind)

    def objective(trial: optuna.Trial) -> float:
        genotype, _ = family.repair(sample_genotype(family, cfg, OptunaAsk(trial)), dataset)
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(model_seed(seed, f"optuna-{trial.number}"))
        model = family.build(genotype, dataset, cfg)
        reporter = _OptunaReporter(trial)
        outcome = fit_and_score(
            model, genotype, dataset, cfg, genotype["epochs"], callbacks=[reporter]
        )
        trial.set_user_attr("genotype", json.dumps(genotype))
        trial.set_user_attr("epochs_run", outcome.epochs_run)
        trial.set_user_attr("val_accuracy", outcome.val_accuracy)
        trial.set_user_attr("test_accuracy", outcome.test_accuracy)
        if outcome.diverged:
            return math.nan  # Optuna records the trial as failed
        if reporter.pruned:
            raise optuna.TrialPruned()
        return outcome.val_accuracy

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.MedianPruner(**_pruner_settings(cfg))
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    started = time.perf_counter()
    study.optimize(objective, n_trials=n_models, catch=(Exception,))
    wall = time.perf_counter() - started
    trials = study.trials
    statuses: dict[str, int] = {}
    for t in trials:
        statuses[t.state.name.lower()] = statuses.get(t.state.name.lower(), 0) + 1
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    note = ""
    if complete:
        pick = study.best_trial
    else:  # no complete trial: the best pruned one by its kept weights, as dlgene ranks them
        scored = [t for t in trials if math.isfinite(t.user_attrs.get("val_accuracy", math.nan))]
        pick = max(scored, key=lambda t: t.user_attrs["val_accuracy"]) if scored else None
        note = "no complete trial: picked the best pruned trial"
    return RunResult(
        dataset=dataset.name,
        tool="optuna-tpe",
        seed=seed,
        models=len(trials),
        configs=len({t.user_attrs.get("genotype", str(t.number)) for t in trials}),
        epochs=sum(int(t.user_attrs.get("epochs_run", 0)) for t in trials),
        wall_s=wall,
        val_accuracy=_attr(pick, "val_accuracy"),
        test_accuracy=_attr(pick, "test_accuracy"),
        selected=f"trial {pick.number}" if pick is not None else "",
        statuses=statuses,
        genotype=json.loads(pick.user_attrs.get("genotype", "{}")) if pick is not None else {},
        note=note,
    )


def _attr(trial: Any, key: str) -> float:
    return float(trial.user_attrs.get(key, math.nan)) if trial is not None else math.nan


# ---------------------------------------------------------------------- KerasTuner
def _hypermodel_class() -> type:
    import keras_tuner as kt

    class GenotypeHyperModel(kt.HyperModel):
        """build(hp) samples a dlgene genotype and calls dlgene's family.build; fit trains it
        with the shared procedure and returns the kept weights' val accuracy (the objective)
        and test accuracy (recorded; KerasTuner's oracles read only the objective)."""

        def __init__(self, cfg: CladeConfig, dataset: Dataset, seed: int, fixed: dict):
            super().__init__()
            self.cfg, self.dataset, self.seed, self.fixed = cfg, dataset, seed, fixed
            self.family = get_family(cfg.kind)
            self.builds = 0
            self.epochs_run = 0

        def genotype(self, hp: Any) -> dict[str, Any]:
            drawn = sample_genotype(self.family, self.cfg, KerasTunerAsk(hp), self.fixed)
            return self.family.repair(drawn, self.dataset)[0]

        def build(self, hp: Any) -> Any:
            genotype = self.genotype(hp)
            keras.utils.set_random_seed(model_seed(self.seed, f"kt-{self.builds}"))
            self.builds += 1
            return self.family.build(genotype, self.dataset, self.cfg)

        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
            genotype = self.genotype(hp)
            epochs = kwargs.get("epochs", genotype["epochs"])  # Hyperband sets epochs itself
            outcome = fit_and_score(
                model,
                genotype,
                self.dataset,
                self.cfg,
                epochs,
                initial_epoch=kwargs.get("initial_epoch", 0),
                callbacks=kwargs.get("callbacks", []),
            )
            self.epochs_run += outcome.epochs_run
            if outcome.diverged:
                raise DivergedError(f"loss became NaN after {outcome.epochs_run} epochs")
            return {
                "val_accuracy": outcome.val_accuracy,
                "test_accuracy": outcome.test_accuracy,
            }

    return GenotypeHyperModel


def run_keras_tuner(
    tool: str, cfg: CladeConfig, dataset: Dataset, n_models: int, seed: int, workdir: Path
) -> RunResult:
    """RandomSearch: ``n_models`` trials. Hyperband: ``n_models`` fits (a configuration
    promoted to a higher rung is a new fit that resumes from its checkpoint), with
    ``max_epochs`` the config's most epochs and factor 3, iterations until the fits run out."""
    import keras_tuner as kt

    hyperband = tool == "kt-hyperband"
    fixed = {"epochs": int(cfg.epochs[1])} if hyperband else {}
    hypermodel = _hypermodel_class()(cfg, dataset, seed, fixed)
    common = {
        "objective": kt.Objective("val_accuracy", direction="max"),
        "seed": seed,
        "directory": str(workdir),
        "project_name": f"{dataset.name}-{seed}-{tool}",
        "overwrite": True,
        "max_consecutive_failed_trials": n_models + 1,  # a diverged model does not end a run
    }
    if hyperband:
        tuner = kt.Hyperband(
            hypermodel, max_epochs=int(cfg.epochs[1]), factor=3, hyperband_iterations=1000, **common
        )
        tuner.oracle.max_trials = n_models  # the budget in fits
    else:
        tuner = kt.RandomSearch(hypermodel, max_trials=n_models, **common)
    started = time.perf_counter()
    tuner.search(verbose=0)
    wall = time.perf_counter() - started
    trials = list(tuner.oracle.trials.values())
    statuses: dict[str, int] = {}
    for t in trials:
        statuses[str(t.status).lower()] = statuses.get(str(t.status).lower(), 0) + 1
    best = tuner.oracle.get_best_trials(1)
    pick = best[0] if best else None
    configs = {json.dumps(_genes_only(t.hyperparameters.values)) for t in trials}
    return RunResult(
        dataset=dataset.name,
        tool=tool,
        seed=seed,
        models=len(trials),
        configs=len(configs),
        epochs=hypermodel.epochs_run,
        wall_s=wall,
        val_accuracy=_metric(pick, "val_accuracy"),
        test_accuracy=_metric(pick, "test_accuracy"),
        selected=f"trial {pick.trial_id}" if pick is not None else "",
        statuses=statuses,
        genotype=hypermodel.genotype(pick.hyperparameters) if pick is not None else {},
    )


def _genes_only(values: dict[str, Any]) -> dict[str, Any]:
    """A trial's hyperparameters without Hyperband's bookkeeping (tuner/epochs, ...)."""
    return {k: v for k, v in values.items() if not k.startswith("tuner/")}


def _metric(trial: Any, name: str) -> float:
    if trial is None or not trial.metrics.exists(name):
        return math.nan
    return float(trial.metrics.get_last_value(name))
