"""Clade: one evolving lineage of models, its config, its data and its experiment folder.

The clade holds state as traitlets (so panels link to it) and writes every step to its
folder; ``Clade.open(folder)`` restores it and ``grow_models`` resumes unfinished models.
The steps themselves are the pure functions in :mod:`population` and :mod:`trainer`.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from traitlets import Dict, HasTraits, Instance, Int, List, Tuple, Unicode

from . import folderlock, population
from .config import CladeConfig, objectives_of
from .data import (
    BUILTIN_DATASETS,
    Dataset,
    DataSpec,
    describe_source,
    load_dataset,
    load_dataset_cached,
    make_dataset,
    remember_dataset,
    save_arrays,
    split_user_arrays,
)
from .dedup import duplicate_ids, known_forms, make_unique
from .errors import CladeStateError, DamagedFolderError, DataError
from .families import family_names, get_family
from .modelfiles import load_model_safely, save_h5_quietly
from .operators import from_row
from .pareto import pareto_front, rank_by_objectives
from .records import FINISHED_STATUSES, PHENOTYPE_COLUMNS, GrowJob, ModelResult
from .storage import ExperimentFolder
from .strategies import History, get_strategy, manual_selection
from .trainer import model_seed

# fields a folder keeps once it has genotypes: its models, data split and seeds depend on them
FIXED_ONCE_GROWN = ("kind", "seed", "max_words", "sequence_length", "validation_fraction")


def _empty_phenotypes() -> pd.DataFrame:
    return pd.DataFrame(columns=list(PHENOTYPE_COLUMNS))


class Clade(HasTraits):
    """A clade of any kind; ``clade_class(kind)`` (``GAFC1``, ``GACNN1``, ...) fixes it."""

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
        self._holds_lock = False
        self._notes_shown = False
        self._curves: dict[str, list[float]] = {}  # model id -> val curve, for the pruner
        if _restore:
            return
        self._already_a_clade()
        # the data is checked before anything is written: a mistake leaves no folder behind
        spec, arrays = self._make_spec(data, data_path)
        dataset = self._validate_data(spec, arrays)
        self._create_folder(spec, arrays, dataset)

    def _already_a_clade(self) -> None:
        if self.store.exists:
            raise CladeStateError(
                f"folder {str(self.store.path)!r} already holds a clade; "
                f"re-open it with {type(self).__name__}.open(folder)"
            )

    def _validate_data(self, spec: DataSpec, arrays: tuple | None) -> Dataset | None:
        """Load (and so check) the data now: user arrays and files always; a built-in set
        when a local file is given (without one, Keras' Reuters loader would download)."""
        if arrays is not None:
            x_train, y_train, x_test, y_test, *val = arrays
            x_val, y_val = val if val else (None, None)
            return make_dataset(
                "arrays", x_train, y_train, x_test, y_test, spec, x_val=x_val, y_val=y_val
            )
        if spec.path or spec.name not in BUILTIN_DATASETS:
            return load_dataset(spec)
        return None

    def _create_folder(self, spec: DataSpec, arrays: tuple | None, dataset: Dataset | None):
        path = self.store.path
        created = not path.exists()
        before = set() if created else set(path.iterdir())
        try:
            path.mkdir(parents=True, exist_ok=True)
            folderlock.acquire(path)
            self._holds_lock = True
            self._already_a_clade()  # a second process may have made it meanwhile
            self.store.ensure()
            if arrays is not None:
                save_arrays(spec.path, *arrays)
            self.data_spec = spec
            self.store.write_config(self.config)
            self._write_meta()
        except BaseException:
            self.close()
            if created:
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                for entry in set(path.iterdir()) - before:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
            raise
        if dataset is not None:
            remember_dataset(spec, dataset)
            self.dataset = dataset
            self._show_notes(dataset)

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(cls, folder: str | os.PathLike, read_only: bool = False) -> Clade:
        """Re-open a folder: same config, tables and generation; grow resumes the rest.
        A writer takes the folder's lock (one per folder); ``read_only=True`` takes none and
        refuses every write."""
        store = ExperimentFolder(folder)
        if not store.exists:
            raise FileNotFoundError(
                f"{str(folder)!r} is not a dlgene experiment folder (no clade.json)"
            )
        if not read_only:
            folderlock.acquire(folder)
        try:
            clade = cls._restore_from(store, folder, read_only)
        except BaseException:
            if not read_only:
                folderlock.release(folder)
            raise
        clade._holds_lock = not read_only
        return clade

    @classmethod
    def _restore_from(cls, store: ExperimentFolder, folder, read_only: bool) -> Clade:
        meta = store.read_meta()
        config = store.read_config()
        generated = cls is Clade or cls in _CLADE_CLASSES.values()
        target = clade_class(config.kind) if generated else cls
        if cls.kind is not None and cls.kind != config.kind:
            raise CladeStateError(
                f"folder {str(folder)!r} holds a {config.kind} clade, not "
                f"{cls.kind}; open it with Clade.open or {config.kind}.open"
            )
        clade = target(config, folder=folder, _restore=True)
        clade.store.read_only = read_only
        clade.data_spec = _spec_from_meta(meta, store)
        clade._reload()
        return clade

    def _make_spec(self, data: Any, data_path: str) -> tuple[DataSpec, tuple | None]:
        """The data spec and, for arrays given in Python, the checked arrays to save."""
        cfg = self.config
        common = {
            "form": self.family.form_for(data if isinstance(data, str) else ""),
            "max_words": cfg.max_words,
            "sequence_length": cfg.sequence_length,
            "validation_fraction": cfg.validation_fraction,
            "seed": cfg.seed,
            "stratify": cfg.stratify,
            "min_validation_samples": cfg.min_validation_samples,
            "min_validation_per_class": cfg.min_validation_per_class,
        }
        if isinstance(data, DataSpec):
            return data, None
        # an existing file always means that file, even when named like a built-in set
        if isinstance(data, str | os.PathLike) and Path(data).is_file():
            path = Path(data).resolve()
            return DataSpec(name=path.name, path=str(path), **common), None
        if isinstance(data, str) and data in BUILTIN_DATASETS:
            path = str(Path(data_path).resolve()) if data_path else ""
            if data_path and not Path(data_path).is_file():
                raise DataError(f"data_path: no file at {data_path!r} (for data {data!r})")
            return DataSpec(name=data, path=path, **common), None
        if isinstance(data, str | os.PathLike) and str(data).endswith(".npz"):
            raise DataError(f"data: no file at {str(data)!r}")
        if isinstance(data, tuple | list) and len(data) in (2, 4, 6):
            arrays = split_user_arrays(tuple(data), cfg.seed, cfg.stratify)
            target = (self.store.path / "data" / "arrays.npz").resolve()
            return DataSpec(name="arrays", path=str(target), **common), arrays
        raise DataError(
            f"data {data!r}: allowed a built-in name ({', '.join(BUILTIN_DATASETS)}),"
            " a .npz path with x_train/y_train/x_test/y_test (and optionally x_val/y_val),"
            " or arrays (x, y), (x_train, y_train, x_test, y_test) or "
            "(x_train, y_train, x_val, y_val, x_test, y_test)"
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
        self._all_genotypes = self.store.read_table("genotypes", ("model_id", "generation"))
        phenotypes = self.store.read_table("phenotypes", ("model_id", "generation", "status"))
        self.store.check_phenotypes_have_genotypes(self._all_genotypes, phenotypes)
        self.phenotypes = phenotypes if not phenotypes.empty else _empty_phenotypes()
        self.generation = (
            int(self._all_genotypes["generation"].max()) if not self._all_genotypes.empty else 0
        )
        self.genotypes = self._generation_rows(self._all_genotypes, self.generation)
        selections = self.store.read_table("selections", ("generation", "model_id"))
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
            f"data: {describe_source(self.data_spec)}: {len(self.dataset.y_train)} train, "
            f"{len(self.dataset.y_val)} val, {len(self.dataset.y_test)} test, "
            f"{self.dataset.n_classes} classes"
            + "".join(f"; {note}" for note in self.dataset.notes)
        )
        self._show_notes(self.dataset)
        return self.dataset

    def data_notes(self, dataset: Dataset) -> list[str]:
        """The data set's notes plus what this kind makes of its shape."""
        notes = list(dataset.notes)
        shape = dataset.input_shape
        sequence_kind = self.config.kind in ("GACNN1", "GARNN1") and dataset.form == "grid"
        if sequence_kind and len(shape) == 2 and shape[1] == 1 and dataset.name != "mnist1d":
            notes.append(
                f"{self.config.kind} reads x of {shape[0]} features per sample as a 1-D "
                f"sequence of {shape[0]} steps; if they are tabular features (not an "
                "ordered signal), GAFC1 is the kind for them"
            )
        return notes

    def _show_notes(self, dataset: Dataset) -> None:
        """Print the data notes once per clade (stderr: stdout stays the run's results)."""
        if self._notes_shown:
            return
        self._notes_shown = True
        for note in self.data_notes(dataset):
            print(f"dlgene: note: {note}", file=sys.stderr)

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
            table = self._unique(table)
            self._set_generation_genotypes(table)
            self.message = f"spawned {len(table)} genotypes for generation {self.generation}"
            return self.genotypes

    @property
    def strategy(self):
        """The search strategy named by ``config.strategy`` (it holds no state)."""
        return get_strategy(self.config.strategy)

    def history(self) -> History:
        """Every genotype and phenotype of every generation, as strategies read them."""
        return History(self._all_genotypes, self.phenotypes)

    def unique_among_all(self, rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Rows made new against every genotype of the clade (steady-state children)."""
        return make_unique(
            self.family, rows, known_forms(self.family, self._all_genotypes), self.config, rng
        )

    def add_genotypes(self, rows: pd.DataFrame) -> list[GrowJob]:
        """Append children to the folder's genotypes (steady state: one at a time) and
        return the jobs of those that need training (a duplicate is recorded, not grown)."""
        generation = int(rows["generation"].iloc[0])
        self._all_genotypes = pd.concat([self._all_genotypes, rows], ignore_index=True)
        self.store.write_table("genotypes", self._all_genotypes)
        lineage = _lineage_rows(rows)
        if len(lineage):
            self.store.replace_rows("lineage", lineage, "child_id")
        self.generation = generation
        self.genotypes = self._generation_rows(self._all_genotypes, generation)
        self.progress = (self._n_finished(generation), len(self.genotypes))
        self.record_duplicates()
        return self._jobs_for(rows)

    def unfinished_jobs(self) -> list[GrowJob]:
        """Jobs of every generation's models that were created but have not finished."""
        return self._jobs_for(self._all_genotypes)

    def _unique(self, table: pd.DataFrame) -> pd.DataFrame:
        """Children made new where they repeat a model of the clade (see :mod:`dedup`)."""
        generation = int(table["generation"].iloc[0])
        others = self._all_genotypes
        if not others.empty:
            others = others[others["generation"] != generation]
        rng = population.step_rng(self.config.seed, generation, population.DEDUP)
        return make_unique(self.family, table, known_forms(self.family, others), self.config, rng)

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

        self.store.check_writable()
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
                save_h5_quietly(model, tmp)
                os.replace(tmp, path)
                keras.backend.clear_session(free_memory=False)
        return paths

    # ------------------------------------------------------------------ grow
    def jobs(self, model_ids: Sequence[str] | None = None) -> list[GrowJob]:
        """Jobs for the current generation's models that have not finished yet."""
        rows = self.genotypes
        if model_ids is not None:
            unknown = sorted(set(model_ids) - set(rows["model_id"]))
            if unknown:
                raise KeyError(
                    f"grow_models: model_ids {unknown} are not in generation {self.generation}"
                )
            rows = rows[rows["model_id"].isin(model_ids)]
        return self._jobs_for(rows)

    def _jobs_for(self, rows: pd.DataFrame) -> list[GrowJob]:
        """Jobs for the genotype rows that are neither finished nor duplicates."""
        if rows.empty:
            return []
        done = self._finished_ids()
        config = self.config.to_dict()
        repeats = duplicate_ids(rows)
        thresholds = self._prune_thresholds()
        return [
            GrowJob(
                model_id=r["model_id"],
                generation=int(r["generation"]),
                kind=r["kind"],
                genotype=from_row(self.family, r),
                seed=model_seed(self.config.seed, r["model_id"]),
                config=config,
                prune_thresholds=thresholds,
            )
            for _, r in rows.iterrows()
            if r["model_id"] not in done and r["model_id"] not in repeats
        ]

    def grow_models(
        self, executor: Any = None, model_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Train and evaluate the unfinished models of the current generation.

        Each model's results reach the folder as it finishes; a failing model is recorded
        with its reason and the others go on. Returns this generation's phenotypes.
        """
        from .executors import executor_for

        self._need_genotypes("grow_models")
        self._need_data()
        if self.config.tensorboard:  # fail before training, not after the first model
            from .tensorboard import require_tensorboard

            require_tensorboard()
        jobs = self.jobs(model_ids)
        if self.status != "evolving":  # inside evolve, a stop pressed between steps holds
            self._stop.clear()
        total = len(self.genotypes)
        self.progress = (total - len(jobs), total)
        with self._busy("growing"), executor_for(executor, self.config) as runner:
            self.run_jobs(runner, jobs)
        self.record_duplicates()
        stopped = self._stop.is_set()
        self.message = (
            f"stopped: {self.progress[0]}/{total} models of generation {self.generation} finished"
            if stopped
            else f"generation {self.generation}: {self.progress[0]}/{total} models grown"
        )
        return self.generation_phenotypes()

    def run_jobs(self, runner: Any, jobs: Any, on_result: Any = None) -> None:
        """Hand jobs (a list or an open JobFeed) to an executor; results reach the folder."""
        try:
            runner.run(
                jobs,
                self.data_spec,
                self._on_event,
                on_result or self._on_result,
                self._stop.is_set,
            )
        finally:
            self.running_models = []
            self.current_model = ""

    def record_duplicates(self) -> None:
        """Give each unfinished duplicate the result of the model it repeats (not trained)."""
        done = self._finished_ids()
        by_id = self.phenotypes.set_index("model_id") if len(self.phenotypes) else None
        table = self._all_genotypes
        for model_id, original in duplicate_ids(table).items():
            if model_id in done or by_id is None or original not in done:
                continue
            row = table[table["model_id"] == model_id].iloc[0]
            source = by_id.loc[original]
            phenotype = {k: _plain(v) for k, v in source.to_dict().items()}
            phenotype.update(
                model_id=model_id,
                generation=int(row["generation"]),
                status="duplicate",
                reason=f"same genotype as {original} ({source['status']}); not trained",
                duplicate_of=original,
                worker="",
                train_time=0.0,
            )
            growth = [self._growth_or_empty(original, level) for level in ("batches", "epochs")]
            self._on_result(ModelResult(model_id, phenotype, *growth))

    def _growth_or_empty(self, model_id: str, level: str) -> pd.DataFrame:
        try:
            return self.store.read_growth(model_id, level)
        except KeyError:  # a model that failed before its first batch
            return pd.DataFrame()

    def _prune_thresholds(self) -> list[float]:
        """Per-epoch values a model must reach to go on (NaN: no check), from the completed
        models of earlier generations.

        Computed here, when jobs are made, so that workers need no shared state; earlier
        generations only, so the thresholds are the same whatever order models finish in,
        on any executor, and after a resume."""
        from .pruning import prune_thresholds

        if self.config.pruner == "none" or self.phenotypes.empty:
            return []
        table = self.phenotypes
        earlier = table[table["generation"] < self.generation]
        completed = earlier[earlier["status"].isin(("ok", "timed_out"))]["model_id"]
        curves = [self._val_curve(m) for m in completed]
        return prune_thresholds(self.config, [c for c in curves if len(c)])

    def _val_curve(self, model_id: str) -> list[float]:
        cache = self._curves
        if model_id not in cache:
            epochs = self.store.read_growth(model_id, "epochs")
            metric = self.config.selection_metric
            cache[model_id] = [] if epochs.empty else [float(v) for v in epochs[metric].to_numpy()]
        return cache[model_id]

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
            chosen = self._choose_parents(top_tier, random_tier, model_ids)
            self.store.replace_generation("selections", chosen, self.generation)
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
        return self._choose_parents(top_tier, random_tier, None)

    def _choose_parents(
        self,
        top_tier: float | None,
        random_tier: float | None,
        model_ids: Sequence[str] | None,
    ) -> pd.DataFrame:
        """Hand-picked ids, or the strategy's choice (tier overrides: tiers strategy only)."""
        if model_ids is not None:
            return manual_selection(
                self.generation_phenotypes(), self.config, self.generation, model_ids
            )
        if self.config.strategy == "tiers" or top_tier is not None or random_tier is not None:
            if self.config.strategy != "tiers":
                raise ValueError(
                    f"select_parents: top_tier/random_tier apply to strategy 'tiers'; this "
                    f"clade's strategy is {self.config.strategy!r}"
                )
            return population.select_parents(
                self.generation_phenotypes(), self.config, self.generation, top_tier, random_tier
            )
        rng = population.step_rng(self.config.seed, self.generation, population.SELECT)
        return self.strategy.select(self.history(), self.config, self.generation, rng)

    def breed(self) -> pd.DataFrame:
        """Recombine and mutate the selected parents into the next generation's genotypes."""
        with self._busy("breeding"):
            picked = not self.parents.empty and (
                int(self.parents["generation"].iloc[0]) == self.generation
            )
            if not picked and self.strategy.needs_parents:
                raise CladeStateError(
                    f"breed: no parents selected in generation "
                    f"{self.generation}; call select_parents first"
                )
            ids = list(self.parents["model_id"]) if picked else []
            pairs = [(pid, self.genotype(pid)) for pid in ids]
            child_generation = self.generation + 1
            rng = population.step_rng(self.config.seed, child_generation, population.BREED)
            table = self.strategy.breed(
                self.family, pairs, self.config, child_generation, self.config.population_size, rng
            )
            table = self._unique(table)
            self.generation += 1
            self.parents = self.parents.iloc[0:0]
            self._set_generation_genotypes(table)
            self.message = f"bred {len(table)} children into generation {self.generation}"
            return self.genotypes

    # ------------------------------------------------------------------ evolve
    def evolve(self, generations: int | None = None, executor: Any = None) -> pd.DataFrame:
        """Spawn (if needed), then grow / select / breed until ``generations`` generations
        (counted from 0, default ``config.generations``) are grown. Resumable at any point."""
        from .executors import executor_for

        target = self.config.generations if generations is None else int(generations)
        if target < 1:
            raise ValueError(f"evolve: generations={target}; allowed: an integer >= 1")
        self._stop.clear()
        with executor_for(executor, self.config) as runner:
            if self.evolution_mode == "steady":
                self._evolve_steady(target, runner)
            else:
                self._evolve_loop(target, runner)
        return self.phenotypes

    @property
    def evolution_mode(self) -> str:
        """'steady' or 'generational': ``config.evolution``, where 'auto' means steady for
        the aging strategy (designed for it) and generational for the others."""
        mode = self.config.evolution
        if mode == "auto":
            return "steady" if self.config.strategy == "aging" else "generational"
        return mode

    def _evolve_steady(self, target: int, runner: Any) -> None:
        from .steady_state import SteadyStateRun

        self._need_data()
        total = target * self.config.population_size
        with self._busy("evolving"), self._busy("growing"):
            SteadyStateRun(self, runner, total).run()
        self.record_duplicates()
        done = len(self._finished_ids())
        self.message = (
            f"stopped: {done}/{total} models finished"
            if self._stop.is_set()
            else f"steady-state: {done}/{total} models grown ({target} generations)"
        )

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
                if self.parents.empty and self.strategy.needs_parents:
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

    def add_selections(self, rows: pd.DataFrame) -> None:
        """Append parent choices (a steady-state child's tournament winners) to the folder."""
        old = self.store.read_table("selections")
        table = pd.concat([old, rows], ignore_index=True) if len(old) else rows
        self.store.write_table("selections", table.reset_index(drop=True))

    def selections(self) -> pd.DataFrame:
        """The parents chosen in every generation (top / random / manual), from the folder."""
        return self.store.read_table("selections")

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
        """The best models by ``config.objectives`` (validation; one objective: by its value,
        several: Pareto front first, then crowding distance), with their test scores."""
        table = self.phenotypes if generation is None else self.generation_phenotypes(generation)
        if table.empty:
            return table
        ranked = rank_by_objectives(table, objectives_of(self.config))
        return ranked.head(n).reset_index(drop=True)

    def pareto(self, generation: int | None = None) -> pd.DataFrame:
        """The first Pareto front under ``config.objectives``: the usable models (of one
        generation, or of the whole run) that no other usable model beats on every
        objective, best first by the first objective."""
        table = self.phenotypes if generation is None else self.generation_phenotypes(generation)
        if table.empty:
            return table
        return pareto_front(table, objectives_of(self.config)).reset_index(drop=True)

    def load_model(self, model_id: str, seed: bool = False):
        """The trained (or, with ``seed=True``, untrained) Keras model from its .h5 file."""
        path = self.store.model_path(model_id, seed=seed)
        if not path.exists():
            row = self.phenotypes[self.phenotypes["model_id"] == model_id]
            if not seed and len(row) and row["status"].iloc[0] in ("ok", "timed_out", "diverged"):
                raise DamagedFolderError(
                    f"{path}: missing; model {model_id!r} finished ({row['status'].iloc[0]}) "
                    "but its trained model file is gone (`dlgene check` lists the damage)"
                )
            raise KeyError(f"no {'seed' if seed else 'trained'} model file for {model_id!r}")
        return load_model_safely(path)

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
        self.store.check_writable()
        other = source if isinstance(source, Clade) else Clade.open(source, read_only=True)
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
            self.store.copy_model_files(other.store, mid, mapping[mid])
        phenotypes["model_id"] = phenotypes["model_id"].map(mapping)
        phenotypes["generation"] = self.generation
        if len(phenotypes):
            self.store.replace_rows("phenotypes", phenotypes, "model_id")
        self._reload()
        return self.genotypes

    def reconfigure(self, config: CladeConfig) -> None:
        """Adopt a changed config (e.g. ``resume --set``) and write it to the folder. The
        fields in FIXED_ONCE_GROWN cannot change once the folder has genotypes."""
        if not self._all_genotypes.empty:
            for name in FIXED_ONCE_GROWN:
                old, new = getattr(self.config, name), getattr(config, name)
                if old != new:
                    raise CladeStateError(
                        f"{name}: this folder's {name} is {old!r} and is fixed once it has "
                        f"genotypes (asked {new!r}). To search with {name}={new!r}, start a "
                        "new run in a new folder (`dlgene evolve --out NEW ...`); in Python a "
                        f"new clade adopts this folder's models with "
                        f"new_clade.load_genepool({str(self.store.path)!r}) (same kind)"
                    )
        self.store.write_config(config)
        self.config = config

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Release the folder (its writer lock); the clade's tables stay readable."""
        if self._holds_lock:
            self._holds_lock = False
            folderlock.release(self.store.path)
            self.store.read_only = True

    def __enter__(self) -> Clade:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _spec_from_meta(meta: dict[str, Any], store: ExperimentFolder) -> DataSpec:
    where = store.path / "clade.json"
    if not isinstance(meta.get("data"), dict):
        raise DamagedFolderError(f"{where}: no 'data' object (the data spec); the file is damaged")
    try:
        return DataSpec.from_dict(meta["data"])
    except TypeError as exc:
        raise DamagedFolderError(f"{where}: the 'data' object is not a data spec ({exc})") from None


def _lineage_rows(table: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {"child_id": r["model_id"], "parent_id": p, "generation": int(r["generation"])}
        for _, r in table.iterrows()
        for p in (r.get("parents") or [])
    ]
    return pd.DataFrame(rows, columns=["child_id", "parent_id", "generation"])


def _default_folder(kind: str, data: Any) -> Path:
    name = data if isinstance(data, str) and "/" not in data else "data"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("dlgene-runs") / f"{kind}-{name}-{stamp}"


_CLADE_CLASSES: dict[str, type[Clade]] = {}


def clade_class(kind: str) -> type[Clade]:
    """The Clade subclass that fixes ``kind`` (made once from the family registry)."""
    if kind not in _CLADE_CLASSES:
        family = get_family(kind)  # names the allowed kinds for an unknown one
        _CLADE_CLASSES[kind] = type(
            kind,
            (Clade,),
            {"kind": kind, "__doc__": family.description, "__module__": __name__},
        )
    return _CLADE_CLASSES[kind]


def clade_classes() -> dict[str, type[Clade]]:
    """Kind -> Clade subclass for every registered family."""
    return {kind: clade_class(kind) for kind in family_names()}


def __getattr__(name: str) -> type[Clade]:
    """``from dlgene_core.clade import GAFC1``: any registered kind is a class here."""
    if name in family_names():
        return clade_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
