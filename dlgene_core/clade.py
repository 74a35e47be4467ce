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
from typing import Any, ClassVar

import pandas as pd
from traitlets import Dict, HasTraits, Instance, Int, List, Tuple, Unicode

from . import folderlock
from .clade_growing import GrowingMixin
from .clade_results import ResultsMixin
from .clade_search import SearchStepsMixin
from .clade_setup import default_folder, make_spec, spec_from_meta, validate_data
from .config import CladeConfig
from .data import (
    Dataset,
    DataSpec,
    describe_source,
    load_dataset_cached,
    remember_dataset,
    save_arrays,
)
from .errors import CladeStateError
from .families import family_names, get_family
from .records import FINISHED_STATUSES, PHENOTYPE_COLUMNS
from .storage import ExperimentFolder

# fields a folder keeps once it has genotypes: its models, data split and seeds depend on them
FIXED_ONCE_GROWN = ("kind", "seed", "max_words", "sequence_length", "validation_fraction")


def _empty_phenotypes() -> pd.DataFrame:
    return pd.DataFrame(columns=list(PHENOTYPE_COLUMNS))


class Clade(SearchStepsMixin, GrowingMixin, ResultsMixin, HasTraits):
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
        self.store = ExperimentFolder(folder or default_folder(config.kind, data))
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
        spec, arrays = make_spec(self.config, self.family, self.store.path, data, data_path)
        dataset = validate_data(spec, arrays)
        self._create_folder(spec, arrays, dataset)

    def _already_a_clade(self) -> None:
        if self.store.exists:
            raise CladeStateError(
                f"folder {str(self.store.path)!r} already holds a clade; "
                f"re-open it with {type(self).__name__}.open(folder)"
            )

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
        clade.data_spec = spec_from_meta(meta, store)
        clade._reload()
        return clade

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

    def load_genepool(
        self, source: str | os.PathLike | Clade, generation: int | None = None
    ) -> pd.DataFrame:
        """Adopt another clade's genotypes and phenotypes as this clade's current
        generation (the original's ``new_genepool``): select and breed from them here."""
        from .genepool import load_genepool

        return load_genepool(self, source, generation)

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
