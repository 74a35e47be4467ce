"""The experiment folder: the truth about a clade, written atomically as work finishes.

Layout::

    config.json            CladeConfig
    clade.json             kind, data spec, format version
    genotypes.parquet      every generation's genotypes (with parents and mutations)
    phenotypes.parquet     one row per finished model (the commit point of a model)
    final.parquet          refit models (train + validation), ids final-<source id>
    selections.parquet     chosen parents per generation (top / random / manual)
    lineage.parquet        child -> parent edges
    growth/<id>.batches.parquet, growth/<id>.epochs.parquet
    results/<id>.misclassified.parquet, results/<id>.confusion.parquet
    models/<id>.seed.h5 (untrained), models/<id>.h5 (trained)
    data/arrays.npz        user-given arrays, so workers and re-opening find them

Every file is written to a temporary name and renamed, so a killed process leaves either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import CladeConfig
from .errors import CladeStateError, DamagedFolderError

FORMAT_VERSION = 1
TABLES = ("genotypes", "phenotypes", "selections", "lineage")


class FolderWriteError(CladeStateError, OSError):
    """A write to the folder failed (disk full, permissions); what was committed is intact."""


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def _write_via_tmp(path: Path, write) -> None:
    """Write to a temporary name, then rename: the old file or the new, never half of one.
    A failed write (ENOSPC, ...) removes its temporary file and names the file it was for."""
    tmp = _tmp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise FolderWriteError(
            exc.errno,
            f"could not write {path}: {reason}. Everything written before is intact; free "
            "space (or fix the cause) and run `dlgene resume` to go on",
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # no fsync: rename is atomic for a killed process; the
            f.write(data)  # OS flushes later (power loss may lose the last model)

    _write_via_tmp(path, write)


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    _write_via_tmp(path, lambda tmp: frame.to_parquet(tmp, index=False))


class ExperimentFolder:
    """Reads and writes one clade's folder. Thread-safe for concurrent model results."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.RLock()

    def check_writable(self) -> None:
        if self.read_only:
            raise CladeStateError(
                f"folder {str(self.path)!r} is open read-only (or closed); open it for "
                "writing with Clade.open(folder)"
            )

    # ------------------------------------------------------------------ layout
    def ensure(self) -> ExperimentFolder:
        self.check_writable()
        for sub in ("growth", "results", "models", "data"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        return self

    @property
    def exists(self) -> bool:
        return (self.path / "clade.json").exists()

    def table_path(self, name: str) -> Path:
        return self.path / f"{name}.parquet"

    def model_path(self, model_id: str, seed: bool = False) -> Path:
        return self.path / "models" / (f"{model_id}.seed.h5" if seed else f"{model_id}.h5")

    def growth_path(self, model_id: str, level: str) -> Path:
        """growth/<id>.batches.parquet or growth/<id>.epochs.parquet."""
        return self.path / "growth" / f"{model_id}.{level}.parquet"

    def result_path(self, model_id: str, part: str) -> Path:
        """results/<id>.misclassified.parquet or results/<id>.confusion.parquet."""
        return self.path / "results" / f"{model_id}.{part}.parquet"

    def model_files(self, model_id: str) -> list[Path]:
        """Every file a model may have here: growth, results, trained and seed models."""
        return [
            *(self.growth_path(model_id, level) for level in ("batches", "epochs")),
            *(self.result_path(model_id, part) for part in ("misclassified", "confusion")),
            self.model_path(model_id),
            self.model_path(model_id, seed=True),
        ]

    def copy_model_files(self, source: ExperimentFolder, old_id: str, new_id: str) -> None:
        """Copy one model's files from another folder under a new id (a gene-pool import)."""
        for src, dst in zip(source.model_files(old_id), self.model_files(new_id), strict=True):
            if src.exists():
                atomic_write_bytes(dst, src.read_bytes())

    # ------------------------------------------------------------------ config / meta
    def write_config(self, cfg: CladeConfig) -> None:
        self.check_writable()
        atomic_write_bytes(self.path / "config.json", (cfg.to_json() + "\n").encode())

    def read_config(self) -> CladeConfig:
        """The folder's config; fields it lacks were written before presets existed, so they
        take the classic preset's values (an old folder keeps its search space)."""
        from .config import PRESETS

        path = self.path / "config.json"
        if not path.is_file():
            raise DamagedFolderError(f"{path}: missing; the folder's config is gone")
        config = CladeConfig.from_json(path)  # names the file and line of a damaged one
        stored = json.loads(path.read_text())
        missing = {k: v for k, v in PRESETS["classic"].items() if k not in stored}
        return config.updated(**missing) if missing else config

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.check_writable()
        meta = {"format_version": FORMAT_VERSION, **meta}
        atomic_write_bytes(self.path / "clade.json", json.dumps(meta, indent=2).encode())

    def read_meta(self) -> dict[str, Any]:
        path = self.path / "clade.json"
        try:
            meta = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DamagedFolderError(
                f"{path}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DamagedFolderError(f"{path}: unreadable ({exc})") from None
        if not isinstance(meta, dict):
            raise DamagedFolderError(f"{path}: holds {type(meta).__name__}, not a JSON object")
        return meta

    # ------------------------------------------------------------------ tables
    def read_table(self, name: str, required: Sequence[str] = ()) -> pd.DataFrame:
        """A table, or an empty frame when it was never written; a truncated or unreadable
        file, or one without a ``required`` column, is a DamagedFolderError naming it."""
        path = self.table_path(name)
        if not path.exists():
            return pd.DataFrame()
        frame = read_parquet_checked(path, required)
        for column in frame.columns:  # list columns come back as numpy arrays
            if (
                frame[column].dtype == object
                and len(frame)
                and isinstance(frame[column].iloc[0], np.ndarray)
            ):
                frame[column] = frame[column].map(list)
        return frame

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        self.check_writable()
        with self._lock:
            atomic_write_parquet(self.table_path(name), frame.reset_index(drop=True))

    def replace_rows(self, name: str, frame: pd.DataFrame, key: str) -> pd.DataFrame:
        """Upsert rows by ``key`` (e.g. model_id) and write the table atomically."""
        with self._lock:
            old = self.read_table(name)
            if not old.empty and key in old:
                old = old[~old[key].isin(set(frame[key]))]
                frame = pd.concat([old, frame], ignore_index=True) if len(old) else frame
            self.write_table(name, frame)
            return frame

    def replace_generation(self, name: str, frame: pd.DataFrame, generation: int) -> pd.DataFrame:
        """Replace one generation's rows of a table (e.g. the parents chosen in it)."""
        with self._lock:
            old = self.read_table(name)
            if not old.empty:
                old = old[old["generation"] != generation]
            table = pd.concat([old, frame], ignore_index=True) if len(old) else frame
            self.write_table(name, table)
            return table

    # ------------------------------------------------------------------ model results
    def write_result(self, result, table: str = "phenotypes") -> None:
        """Write growth, misclassified, confusion and model, then the phenotype row last:
        the phenotype row is what marks the model as finished. Refit models go to the
        ``final`` table instead, so they never enter the search's ranking."""
        self.check_writable()
        mid = result.model_id
        atomic_write_parquet(self.growth_path(mid, "batches"), result.batches)
        atomic_write_parquet(self.growth_path(mid, "epochs"), result.epochs)
        if result.misclassified is not None:
            atomic_write_parquet(self.result_path(mid, "misclassified"), result.misclassified)
        if result.confusion is not None:
            confusion = pd.DataFrame(
                result.confusion, columns=[str(i) for i in range(result.confusion.shape[1])]
            )
            atomic_write_parquet(self.result_path(mid, "confusion"), confusion)
        if result.model_h5 is not None:
            atomic_write_bytes(self.model_path(mid), result.model_h5)
        row = {k: v for k, v in result.phenotype.items() if k != "traceback"}
        self.replace_rows(table, pd.DataFrame([row]), "model_id")

    def check_phenotypes_have_genotypes(
        self, genotypes: pd.DataFrame, phenotypes: pd.DataFrame
    ) -> None:
        """Every grown model has its genotype: a deleted genotypes table is damage, not a
        generation to spawn again."""
        if phenotypes.empty:
            return
        known = set(genotypes["model_id"]) if not genotypes.empty else set()
        lost = sorted(set(phenotypes["model_id"]) - known)
        if lost:
            what = "is missing" if genotypes.empty else f"lacks {len(lost)} of them"
            raise DamagedFolderError(
                f"{self.table_path('genotypes')}: {what}; phenotypes.parquet records grown "
                f"models {lost[:5]}{' ...' if len(lost) > 5 else ''} without genotypes "
                "(`dlgene check` lists the damage)"
            )

    def read_growth(self, model_id: str, level: str = "batches") -> pd.DataFrame:
        if level not in ("batches", "epochs"):
            raise ValueError(f"growth level {level!r}: allowed 'batches' or 'epochs'")
        path = self.growth_path(model_id, level)
        if not path.exists():
            raise KeyError(f"no growth recorded for model {model_id!r} in {self.path}")
        return pd.read_parquet(path)

    def read_misclassified(self, model_id: str) -> pd.DataFrame:
        path = self.result_path(model_id, "misclassified")
        if not path.exists():
            raise KeyError(f"no test results for model {model_id!r} (not grown, or failed)")
        return pd.read_parquet(path)

    def read_confusion(self, model_id: str) -> np.ndarray:
        path = self.result_path(model_id, "confusion")
        if not path.exists():
            raise KeyError(f"no test results for model {model_id!r} (not grown, or failed)")
        return pd.read_parquet(path).to_numpy()


def read_parquet_checked(path: Path, required: Sequence[str] = ()) -> pd.DataFrame:
    """``pd.read_parquet`` that names the file and what is wrong with it."""
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise DamagedFolderError(f"{path}: not a readable Parquet table ({exc})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DamagedFolderError(f"{path}: lacks column(s) {missing}; it has {list(frame.columns)}")
    return frame
