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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import CladeConfig

FORMAT_VERSION = 1
TABLES = ("genotypes", "phenotypes", "selections", "lineage")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as f:  # no fsync: rename is atomic for a killed process; the
        f.write(data)  # OS flushes later (power loss may lose the last model)
    os.replace(tmp, path)


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


class ExperimentFolder:
    """Reads and writes one clade's folder. Thread-safe for concurrent model results."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ layout
    def ensure(self) -> ExperimentFolder:
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

    # ------------------------------------------------------------------ config / meta
    def write_config(self, cfg: CladeConfig) -> None:
        atomic_write_bytes(self.path / "config.json", (cfg.to_json() + "\n").encode())

    def read_config(self) -> CladeConfig:
        return CladeConfig.from_json(self.path / "config.json")

    def write_meta(self, meta: dict[str, Any]) -> None:
        meta = {"format_version": FORMAT_VERSION, **meta}
        atomic_write_bytes(self.path / "clade.json", json.dumps(meta, indent=2).encode())

    def read_meta(self) -> dict[str, Any]:
        return json.loads((self.path / "clade.json").read_text())

    # ------------------------------------------------------------------ tables
    def read_table(self, name: str) -> pd.DataFrame:
        path = self.table_path(name)
        if not path.exists():
            return pd.DataFrame()
        frame = pd.read_parquet(path)
        for column in frame.columns:  # list columns come back as numpy arrays
            if (
                frame[column].dtype == object
                and len(frame)
                and isinstance(frame[column].iloc[0], np.ndarray)
            ):
                frame[column] = frame[column].map(list)
        return frame

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
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

    # ------------------------------------------------------------------ model results
    def write_result(self, result, table: str = "phenotypes") -> None:
        """Write growth, misclassified, confusion and model, then the phenotype row last:
        the phenotype row is what marks the model as finished. Refit models go to the
        ``final`` table instead, so they never enter the search's ranking."""
        mid = result.model_id
        atomic_write_parquet(self.path / "growth" / f"{mid}.batches.parquet", result.batches)
        atomic_write_parquet(self.path / "growth" / f"{mid}.epochs.parquet", result.epochs)
        if result.misclassified is not None:
            atomic_write_parquet(
                self.path / "results" / f"{mid}.misclassified.parquet", result.misclassified
            )
        if result.confusion is not None:
            confusion = pd.DataFrame(
                result.confusion, columns=[str(i) for i in range(result.confusion.shape[1])]
            )
            atomic_write_parquet(self.path / "results" / f"{mid}.confusion.parquet", confusion)
        if result.model_h5 is not None:
            atomic_write_bytes(self.model_path(mid), result.model_h5)
        row = {k: v for k, v in result.phenotype.items() if k != "traceback"}
        self.replace_rows(table, pd.DataFrame([row]), "model_id")

    def read_growth(self, model_id: str, level: str = "batches") -> pd.DataFrame:
        if level not in ("batches", "epochs"):
            raise ValueError(f"growth level {level!r}: allowed 'batches' or 'epochs'")
        path = self.path / "growth" / f"{model_id}.{level}.parquet"
        if not path.exists():
            raise KeyError(f"no growth recorded for model {model_id!r} in {self.path}")
        return pd.read_parquet(path)

    def read_misclassified(self, model_id: str) -> pd.DataFrame:
        path = self.path / "results" / f"{model_id}.misclassified.parquet"
        if not path.exists():
            raise KeyError(f"no test results for model {model_id!r} (not grown, or failed)")
        return pd.read_parquet(path)

    def read_confusion(self, model_id: str) -> np.ndarray:
        path = self.path / "results" / f"{model_id}.confusion.parquet"
        if not path.exists():
            raise KeyError(f"no test results for model {model_id!r} (not grown, or failed)")
        return pd.read_parquet(path).to_numpy()
