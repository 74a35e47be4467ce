"""Clade: one evolving lineage of models, its config, its data and its experiment folder.

The clade holds state as traitlets (so panels link to it) and writes every step to its
folder; ``Clade.open(folder)`` restores it and ``grow_models`` resumes unfinished models.
The steps themselves are the pure functions in :mod:`population` and :mod:`trainer`.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from traitlets import Dict, HasTraits, Instance, Int, List, Tuple, Unicode

from . import population
from .config import CladeConfig
from .data import (
    BUILTIN_DATASETS,
    Dataset,
    DataSpec,
    load_dataset_cached,
    save_arrays,
    split_user_arrays,
)
from .errors import CladeStateError, DataError
from .families import get_family
from .operators import from_row
from .storage import ExperimentFolder
from .trainer import FINISHED_STATUSES, PHENOTYPE_COLUMNS, GrowJob, ModelResult, model_seed


def _empty_phenotypes() -> pd.DataFrame:
    return pd.DataFrame(columns=list(PHENOTYPE_COLUMNS))


class Clade(HasTraits):
    """A clade of any kind; ``GAFC1``, ``GACNN1`` and ``GARNN1`` fix the kind."""

    kind: ClassVar[str | None] = None

    config = Instance(CladeConfig)
    generation = Int(0, help="the generation being worked on")
    genotypes = Instance(pd.DataFrame, help="genotypes of the current generation")
    phenotypes = Instance(pd.DataFrame, help="phenotypes of every finished model")
    parents = Instance(pd.DataFrame, help="parents selected from the current generation")
    status = Unicode("idle", help="idle, spawning, growing, selecting, breeding, evolving")
    message = Unicode("", help="last thing that happened, for a status line")
    current_model = Unicode("", help="model training now (the last one started)")
    running_models = List(Unicode(), help="models training now (several with a pool)")
    last_batch = Dict(help="the latest batch event: model_id, epoch, batch, loss, accuracy")
    last_epoch = Dict(help="the latest epoch event, with validation metrics")
    progress = Tuple(Int(), Int(), default_value=(0, 0), help="(finished, total) models")

    def __init__(
        self,
        config: CladeConfig | None = None,
        data: Any = "digits",
        folder: str | os.PathLike | None = None,
        *,
        data_path: str = "",
        _restore: bool = False,
    ):
        super().__init__()
        config = (config or CladeConfig()).copy()
        if self.kind is not None and config.kind != self.kind:
            config.kind = self.kind
        self.config = config
        self.family = get_family(config.kind)
        self.store = ExperimentFolder(folder or _default_folder(config.kind, data))
        self.genotypes = pd.DataFrame()
        self.phenotypes = _empty_phenotypes()
        self.parents = pd.DataFrame(columns=["generation", "model_id", "reason", "metric", "value"])
        self.dataset: Dataset | None = None
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._all_genotypes = pd.DataFrame()
        self._listeners: list = []
        if _restore:
            return
        if self.store.exists:
            raise CladeStateError(
                f"folder {str(self.store.path)!r} already holds a clade; "
                f"re-open it with {type(self).__name__}.open(folder)"
            )
        self.store.ensure()
        self.data_spec = self._make_spec(data, data_path)
        self.store.write_config(self.config)
        self._write_meta()

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(cls, folder: str | os.PathLike) -> Clade:
        """Re-open a folder: same config, tables and generation; grow resumes the rest."""
        store = ExperimentFolder(folder)
        if not store.exists:
            raise FileNotFoundError(
                f"{str(folder)!r} is not a dlgene experiment folder (no clade.json)"
            )
        meta = store.read_meta()
        config = store.read_config()
        target = (
            CLADE_CLASSES.get(config.kind, Clade)
            if cls in (Clade, *CLADE_CLASSES.values())
            else cls
        )
        if cls.kind is not None and cls.kind != config.kind:
            raise CladeStateError(
                f"folder {str(folder)!r} holds a {config.kind} clade, not "
                f"{cls.kind}; open it with Clade.open or {config.kind}.open"
            )
        clade = target(config, folder=folder, _restore=True)
        clade.data_spec = DataSpec.from_dict(meta["data"])
        clade._reload()
        return clade

    def _make_spec(self, data: Any, data_path: str) -> DataSpec:
        cfg = self.config
        common = {
            "form": self.family.form_for(data if isinstance(data, str) else ""),
            "max_words": cfg.max_words,
            "sequence_length": cfg.sequence_length,
            "validation_fraction": cfg.validation_fraction,
            "seed": cfg.seed,
        }
        if isinstance(data, DataSpec):
            return data
        if isinstance(data, str) and data in BUILTIN_DATASETS:
            path = str(Path(data_path).resolve()) if data_path else ""
            return DataSpec(name=data, path=path, **common)
        if isinstance(data, str | os.PathLike) and str(data).endswith(".npz"):
            path = Path(data)
            if not path.exists():
                raise DataError(f"data: no file at {str(path)!r}")
            return DataSpec(name=path.stem, path=str(path.resolve()), **common)
        if isinstance(data, tuple | list) and len(data) in (2, 4):
            x_train, y_train, x_test, y_test = split_user_arrays(tuple(data), cfg.seed)
            target = self.store.path / "data" / "arrays.npz"
            save_arrays(target, x_train, y_train, x_test, y_test)
            return DataSpec(name="arrays", path=str(target.resolve()), **common)
        raise DataError(
            f"data {data!r}: allowed a built-in name ({', '.join(BUILTIN_DATASETS)}),"
            " a .npz path with x_train/y_train/x_test/y_test, or arrays (x, y) or "
            "(x_train, y_train, x_test, y_test)"
        )

    def _write_meta(self) -> None:
        self.store.write_meta(
            {
                "kind": self.config.kind,
                "data": self.data_spec.to_dict(),
                "created": _dt.datetime.now(_dt.UTC).isoformat(),
            }
        )

    def _reload(self) -> None:
        self._all_genotypes = self.store.read_table("genotypes")
        phenotypes = self.store.read_table("phenotypes")
        self.phenotypes = phenotypes if not phenotypes.empty else _empty_phenotypes()
        self.generation = (
            int(self._all_genotypes["generation"].max()) if not self._all_genotypes.empty else 0
        )
        self.genotypes = self._generation_rows(self._all_genotypes, self.generation)
        selections = self.store.read_table("selections")
        if not selections.empty:
            self.parents = self._generation_rows(selections, self.generation)
        self.progress = (self._n_finished(self.generation), len(self.genotypes))

    @staticmethod
    def _generation_rows(table: pd.DataFrame, generation: int) -> pd.DataFrame:
        if table.empty:
            return table
        return table[table["generation"] == generation].reset_index(drop=True)

    # ------------------------------------------------------------------ data
    def load_data(self) -> Dataset:
        """Load train / validation / test splits (cached per process)."""
        self.dataset = load_dataset_cached(self.data_spec)
        self.message = (
            f"data {self.dataset.name}: {len(self.dataset.y_train)} train, "
            f"{len(self.dataset.y_val)} val, {len(self.dataset.y_test)} test, "
            f"{self.dataset.n_classes} classes"
        )
        return self.dataset

    def _need_data(self) -> Dataset:
        return self.dataset if self.dataset is not None else self.load_data()

    # ------------------------------------------------------------------ spawn
    def spawn(self, n: int | None = None) -> pd.DataFrame:
        """Random genotypes for the current generation (replacing ungrown ones)."""
        with self._busy("spawning"):
            if self._n_finished(self.generation) > 0:
                raise CladeStateError(
                    f"spawn: generation {self.generation} already has grown "
                    "models; breed to go on, or start a new clade"
                )
            table = population.spawn(self.family, self.config, self.generation, n)
            self._set_generation_genotypes(table)
            self.message = f"spawned {len(table)} genotypes for generation {self.generation}"
            return self.genotypes

    def _set_generation_genotypes(self, table: pd.DataFrame) -> None:
        old = self._all_genotypes
        if not old.empty:
            old = old[old["generation"] != int(table["generation"].iloc[0])]
        self._all_genotypes = pd.concat([old, table], ignore_index=True) if len(old) else table
        self.store.write_table("genotypes", self._all_genotypes)
        lineage = _lineage_rows(table)
        if len(lineage):
            self.store.replace_rows("lineage", lineage, "child_id")
        self.genotypes = table.reset_index(drop=True)
        self.progress = (self._n_finished(self.generation), len(self.genotypes))

    def genotype(self, model_id: str) -> dict[str, Any]:
        """One model's genotype as a dict (segments as lists of blocks)."""
        rows = self._all_genotypes[self._all_genotypes["model_id"] == model_id]
        if rows.empty:
            raise KeyError(f"no model {model_id!r} in this clade")
        return from_row(self.family, rows.iloc[0])

    # ------------------------------------------------------------------ seed
    def seed_models(self) -> list[Path]:
        """Build and save every current genotype as an untrained .h5 model."""
        import keras

        dataset = self._need_data()
        self._need_genotypes("seed_models")
        paths = []
        with self._busy("seeding"):
            for row in self.genotypes.itertuples(index=False):
                path = self.store.model_path(row.model_id, seed=True)
                paths.append(path)
                if path.exists():
                    continue
                keras.utils.set_random_seed(model_seed(self.config.seed, row.model_id))
                genotype, _ = self.family.repair(self.genotype(row.model_id), dataset)
                try:
                    model = self.family.build(genotype, dataset, self.config)
                except Exception as exc:  # recorded when grown; seeding goes on
                    self.message = f"{row.model_id} cannot be built: {exc}"
                    continue
                tmp = path.with_name(f".{path.name}.tmp.h5")
                model.save(tmp)
                os.replace(tmp, path)
                keras.backend.clear_session(free_memory=False)
        return paths

    # ------------------------------------------------------------------ grow
    def jobs(self, model_ids: Sequence[str] | None = None) -> list[GrowJob]:
        """Jobs for the current generation's models that have not finished yet."""
        done = self._finished_ids()
        rows = self.genotypes
        if model_ids is not None:
            unknown = sorted(set(model_ids) - set(rows["model_id"]))
            if unknown:
                raise KeyError(
                    f"grow_models: model_ids {unknown} are not in generation {self.generation}"
                )
            rows = rows[rows["model_id"].isin(model_ids)]
        config = self.config.to_dict()
        return [
            GrowJob(
                model_id=r["model_id"],
                generation=int(r["generation"]),
                kind=r["kind"],
                genotype=from_row(self.family, r),
                seed=model_seed(self.config.seed, r["model_id"]),
                config=config,
            )
            for _, r in rows.iterrows()
            if r["model_id"] not in done
        ]

    def grow_models(
        self, executor: Any = None, model_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Train and evaluate the unfinished models of the current generation.

        Each model's results reach the folder as it finishes; a failing model is recorded
        with its reason and the others go on. Returns this generation's phenotypes.
        """
        from .executors import resolve_executor

        self._need_genotypes("grow_models")
        self._need_data()
        if self.config.tensorboard:  # fail before training, not after the first model
            from .tensorboard import require_tensorboard

            require_tensorboard()
        jobs = self.jobs(model_ids)
        runner = resolve_executor(executor, self.config)
        owned = not _is_executor_object(executor)
        if self.status != "evolving":  # inside evolve, a stop pressed between steps holds
            self._stop.clear()
        total = len(self.genotypes)
        self.progress = (total - len(jobs), total)
        with self._busy("growing"):
            try:
                runner.run(jobs, self.data_spec, self._on_event, self._on_result, self._stop.is_set)
            finally:
                if owned:
                    runner.close()
                self.running_models = []
                self.current_model = ""
        stopped = self._stop.is_set()
        self.message = (
            f"stopped: {self.progress[0]}/{total} models of generation {self.generation} finished"
            if stopped
            else f"generation {self.generation}: {self.progress[0]}/{total} models grown"
        )
        return self.generation_phenotypes()

    def add_listener(self, listener) -> None:
        """Receive every raw training event (batch, epoch, start, result) as a dict."""
        self._listeners.append(listener)

    def remove_listener(self, listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "batch":
            self.last_batch = event
        elif kind == "epoch":
            self.last_epoch = event
        elif kind == "start":
            self.current_model = event["model_id"]
            if event["model_id"] not in self.running_models:
                self.running_models = [*self.running_models, event["model_id"]]
        for listener in list(self._listeners):
            listener(event)

    def _on_result(self, result: ModelResult) -> None:
        if result.status == "stopped":
            self._on_event({"event": "result", "model_id": result.model_id, "status": "stopped"})
            self.running_models = [m for m in self.running_models if m != result.model_id]
            return
        with self._lock:
            self.store.write_result(result)
            row = pd.DataFrame([{k: v for k, v in result.phenotype.items() if k != "traceback"}])
            old = self.phenotypes
            old = old[old["model_id"] != result.model_id] if len(old) else old
            self.phenotypes = pd.concat([old, row], ignore_index=True) if len(old) else row
            self.running_models = [m for m in self.running_models if m != result.model_id]
            self.progress = (self._n_finished(self.generation), len(self.genotypes))
        if self.config.tensorboard:
            from .tensorboard import write_model

            write_model(self, result.model_id)
        self._on_event(
            {
                "event": "result",
                "model_id": result.model_id,
                "status": result.status,
                "phenotype": result.phenotype,
            }
        )

    def stop(self) -> None:
        """Ask training to stop: the running model ends cleanly at its next batch and is not
        recorded (it will be grown again on resume); finished models are all kept."""
        self._stop.set()
        self.message = "stopping..."

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # ------------------------------------------------------------------ select / breed
    def select_parents(
        self,
        top_tier: float | None = None,
        random_tier: float | None = None,
        model_ids: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Top tier by the validation metric plus a random tier, or ``model_ids`` chosen by
        hand. The choice is written to the folder; ``breed`` uses it."""
        with self._busy("selecting"):
            chosen = population.select_parents(
                self.generation_phenotypes(),
                self.config,
                self.generation,
                top_tier,
                random_tier,
                model_ids,
            )
            selections = self.store.read_table("selections")
            if not selections.empty:
                selections = selections[selections["generation"] != self.generation]
            table = (
                pd.concat([selections, chosen], ignore_index=True) if len(selections) else chosen
            )
            self.store.write_table("selections", table)
            self.parents = chosen
            self.message = (
                f"selected {len(chosen)} parents of generation {self.generation}: "
                + ", ".join(chosen["model_id"])
            )
            return chosen

    def preview_parents(
        self, top_tier: float | None = None, random_tier: float | None = None
    ) -> pd.DataFrame:
        """Who ``select_parents`` would choose, without storing anything."""
        return population.select_parents(
            self.generation_phenotypes(), self.config, self.generation, top_tier, random_tier
        )

    def breed(self) -> pd.DataFrame:
        """Recombine and mutate the selected parents into the next generation's genotypes."""
        with self._busy("breeding"):
            if self.parents.empty or int(self.parents["generation"].iloc[0]) != self.generation:
                raise CladeStateError(
                    f"breed: no parents selected in generation "
                    f"{self.generation}; call select_parents first"
                )
            pairs = [(pid, self.genotype(pid)) for pid in self.parents["model_id"]]
            table = population.breed(self.family, pairs, self.config, self.generation + 1)
            self.generation += 1
            self.parents = self.parents.iloc[0:0]
            self._set_generation_genotypes(table)
            self.message = f"bred {len(table)} children into generation {self.generation}"
            return self.genotypes

    # ------------------------------------------------------------------ evolve
    def evolve(self, generations: int | None = None, executor: Any = None) -> pd.DataFrame:
        """Spawn (if needed), then grow / select / breed until ``generations`` generations
        (counted from 0, default ``config.generations``) are grown. Resumable at any point."""
        from .executors import resolve_executor

        target = self.config.generations if generations is None else int(generations)
        if target < 1:
            raise ValueError(f"evolve: generations={target}; allowed: an integer >= 1")
        runner = resolve_executor(executor, self.config)
        owned = not _is_executor_object(executor)
        self._stop.clear()
        try:
            self._evolve_loop(target, runner)
        finally:
            if owned:
                runner.close()
        return self.phenotypes

    def _evolve_loop(self, target: int, runner: Any) -> None:
        with self._busy("evolving"):
            while True:
                if self.genotypes.empty:
                    if self.generation > 0:
                        raise CladeStateError(
                            f"evolve: generation {self.generation} has no genotypes"
                        )
                    self.spawn()
                self.grow_models(executor=runner)
                if self._stop.is_set() or self.generation + 1 >= target:
                    break
                if self.parents.empty:
                    self.select_parents()
                if self._stop.is_set():
                    break
                self.breed()

    # ------------------------------------------------------------------ results
    def generation_phenotypes(self, generation: int | None = None) -> pd.DataFrame:
        generation = self.generation if generation is None else generation
        if self.phenotypes.empty:
            return self.phenotypes
        return self._generation_rows(self.phenotypes, generation)

    @property
    def all_genotypes(self) -> pd.DataFrame:
        return self._all_genotypes

    def growth(self, model_id: str, level: str = "batches") -> pd.DataFrame:
        """A model's growth table: ``batches`` (per batch) or ``epochs`` (with validation)."""
        return self.store.read_growth(model_id, level)

    def misclassified(self, model_id: str) -> pd.DataFrame:
        """Test samples the model got wrong (the original's onehot_misclassified)."""
        return self.store.read_misclassified(model_id)

    def confusion_matrix(self, model_id: str) -> np.ndarray:
        return self.store.read_confusion(model_id)

    def lineage(self) -> pd.DataFrame:
        return self.store.read_table("lineage")

    def ancestry(self, model_id: str) -> pd.DataFrame:
        """Every ancestor of a model, generation by generation (child_id -> parent_id edges)."""
        lineage = self.lineage()
        if lineage.empty:
            return lineage
        edges, frontier = [], {model_id}
        while frontier:
            rows = lineage[lineage["child_id"].isin(frontier)]
            edges.append(rows)
            frontier = set(rows["parent_id"])
        return pd.concat(edges, ignore_index=True)

    def best(self, n: int = 5, generation: int | None = None) -> pd.DataFrame:
        """The best models by the selection metric (validation), with their test scores."""
        table = self.phenotypes if generation is None else self.generation_phenotypes(generation)
        if table.empty:
            return table
        return population.rank(table, self.config.selection_metric).head(n).reset_index(drop=True)

    def load_model(self, model_id: str, seed: bool = False):
        """The trained (or, with ``seed=True``, untrained) Keras model from its .h5 file."""
        import keras

        path = self.store.model_path(model_id, seed=seed)
        if not path.exists():
            raise KeyError(f"no {'seed' if seed else 'trained'} model file for {model_id!r}")
        return keras.models.load_model(path, compile=False, safe_mode=True)

    # ------------------------------------------------------------------ taking results out
    def best_models(self, n: int = 1) -> list:
        """The ``n`` best models, compiled and ready to ``predict`` / ``evaluate``."""
        from .export import best_models

        return best_models(self, n)

    def export(self, model_id: str = "best", path: str | os.PathLike = "model.keras") -> Path:
        """A ``.keras`` file loadable by plain Keras, with the class labels inside."""
        from .export import export_model

        return export_model(self, model_id, path)

    def refit(self, model_id: str = "best", epochs: int | None = None) -> pd.DataFrame:
        """Retrain a genotype on train + validation; recorded as model ``final-<id>``."""
        from .refit import refit

        return refit(self, model_id, epochs)

    def final_models(self) -> pd.DataFrame:
        """Refit (final) models, oldest first."""
        return self.store.read_table("final")

    def predict(self, x: Any, model_id: str | None = None) -> np.ndarray:
        """Labels as the user gave them, from the latest final model or else the best."""
        from .export import predict

        return predict(self, x, model_id)

    def predict_proba(self, x: Any, model_id: str | None = None) -> np.ndarray:
        """Class probabilities (columns follow ``dataset.classes``)."""
        from .export import predict_proba

        return predict_proba(self, x, model_id)

    def summary(self, include_final: bool = True) -> pd.DataFrame:
        """Every model ranked, phenotype and genes in one row (final models last)."""
        from .results import summary

        return summary(self, include_final)

    def load_genepool(
        self, source: str | os.PathLike | Clade, generation: int | None = None
    ) -> pd.DataFrame:
        """Adopt another clade's genotypes and phenotypes as this clade's current
        generation (the original's ``new_genepool``): select and breed from them here."""
        other = source if isinstance(source, Clade) else Clade.open(source)
        if other.config.kind != self.config.kind:
            raise CladeStateError(
                f"load_genepool: source is a {other.config.kind} clade; this "
                f"clade is {self.config.kind}"
            )
        if self._n_finished(self.generation):
            raise CladeStateError(
                "load_genepool: the current generation already has grown models; use a fresh clade"
            )
        gen = other.generation if generation is None else generation
        genotypes = other._generation_rows(other.all_genotypes, gen).copy()
        phenotypes = other.generation_phenotypes(gen).copy()
        mapping = {
            old: population.model_id(self.generation, i)
            for i, old in enumerate(genotypes["model_id"])
        }
        genotypes["model_id"] = genotypes["model_id"].map(mapping)
        genotypes["generation"] = self.generation
        genotypes["parents"] = [[] for _ in range(len(genotypes))]
        self._set_generation_genotypes(genotypes)
        for mid in phenotypes["model_id"]:
            self._copy_model_files(other, mid, mapping[mid])
        phenotypes["model_id"] = phenotypes["model_id"].map(mapping)
        phenotypes["generation"] = self.generation
        if len(phenotypes):
            self.store.replace_rows("phenotypes", phenotypes, "model_id")
        self._reload()
        return self.genotypes

    def _copy_model_files(self, other: Clade, old: str, new: str) -> None:
        for level in ("batches", "epochs"):
            src = other.store.path / "growth" / f"{old}.{level}.parquet"
            if src.exists():
                (self.store.path / "growth" / f"{new}.{level}.parquet").write_bytes(
                    src.read_bytes()
                )
        for part in ("misclassified", "confusion"):
            src = other.store.path / "results" / f"{old}.{part}.parquet"
            if src.exists():
                (self.store.path / "results" / f"{new}.{part}.parquet").write_bytes(
                    src.read_bytes()
                )
        for seed in (False, True):  # the trained (and untrained) models come along too
            src = other.store.model_path(old, seed=seed)
            if src.exists():
                self.store.model_path(new, seed=seed).write_bytes(src.read_bytes())

    # ------------------------------------------------------------------ helpers
    def _finished_ids(self) -> set[str]:
        table = self.phenotypes
        if table.empty:
            return set()
        return set(table.loc[table["status"].isin(FINISHED_STATUSES), "model_id"])

    def _n_finished(self, generation: int) -> int:
        table = self.generation_phenotypes(generation)
        return int(table["status"].isin(FINISHED_STATUSES).sum()) if len(table) else 0

    def _need_genotypes(self, step: str) -> None:
        if self.genotypes.empty:
            raise CladeStateError(
                f"{step}: generation {self.generation} has no genotypes; call spawn first"
            )

    def _busy(self, status: str):
        return _Busy(self, status)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(folder={str(self.store.path)!r}, "
            f"generation={self.generation}, models={len(self.genotypes)}, "
            f"finished={self.progress[0]})"
        )


class _Busy:
    """Sets ``status`` while a step runs and restores the outer status afterwards."""

    def __init__(self, clade: Clade, status: str):
        self.clade, self.status, self.previous = clade, status, "idle"

    def __enter__(self):
        self.previous = self.clade.status
        self.clade.status = self.status
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        self.clade.status = self.previous if self.previous != self.status else "idle"


def _lineage_rows(table: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {"child_id": r["model_id"], "parent_id": p, "generation": int(r["generation"])}
        for _, r in table.iterrows()
        for p in (r.get("parents") or [])
    ]
    return pd.DataFrame(rows, columns=["child_id", "parent_id", "generation"])


def _is_executor_object(executor: Any) -> bool:
    return executor is not None and not isinstance(executor, str)


def _default_folder(kind: str, data: Any) -> Path:
    name = data if isinstance(data, str) and "/" not in data else "data"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("dlgene-runs") / f"{kind}-{name}-{stamp}"


class GAFC1(Clade):
    """Genetic Algorithm operations for Fully Connected nets, version 1."""

    kind = "GAFC1"


class GACNN1(Clade):
    """Convolutional clade (1-D and 2-D conv blocks, then GAFC1's dense head)."""

    kind = "GACNN1"


class GARNN1(Clade):
    """Recurrent clade (GRU / LSTM / SimpleRNN stacks, then GAFC1's dense head)."""

    kind = "GARNN1"


CLADE_CLASSES: dict[str, type[Clade]] = {"GAFC1": GAFC1, "GACNN1": GACNN1, "GARNN1": GARNN1}
