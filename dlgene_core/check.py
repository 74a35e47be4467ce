"""``dlgene check FOLDER``: is every recorded model whole, and what lies around unused?

Read-only (takes no lock). Damage is what makes a folder wrong to resume or read: an
unreadable clade.json / config.json / table, a table without its key columns, a phenotype
row without its growth tables or model file, a grown model without its genotype. Orphans
are files no row refers to (a model killed between its files and its phenotype row, a
``.tmp`` left by a crash): harmless, listed so they can be removed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import CladeStateError, ConfigError
from .folderlock import LOCK_NAME, OWNER_NAME
from .records import MODEL_FILE_STATUSES, TEST_RESULT_STATUSES
from .storage import TABLES, ExperimentFolder, read_parquet_checked

REQUIRED_COLUMNS = {
    "genotypes": ("model_id", "generation"),
    "phenotypes": ("model_id", "generation", "status"),
    "selections": ("generation", "model_id"),
    "lineage": ("child_id", "parent_id"),
}
WITH_MODEL_FILE = MODEL_FILE_STATUSES  # failed models and duplicates have none
WITH_TEST_RESULTS = TEST_RESULT_STATUSES
_MODEL_FILE = re.compile(r"^(?P<id>.+?)(?P<kind>\.seed)?\.h5$")
_PART_FILE = re.compile(r"^(?P<id>.+)\.(batches|epochs|misclassified|confusion)\.parquet$")


@dataclass
class FolderReport:
    folder: Path
    damage: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    models: int = 0

    @property
    def damaged(self) -> bool:
        return bool(self.damage)

    def format(self) -> str:
        lines = [f"{self.folder}: {self.models} recorded models checked"]
        lines += [f"DAMAGE: {d}" for d in self.damage]
        lines += [f"orphan: {o}" for o in self.orphans]
        if not self.damage:
            lines.append("no damage found" + (" (orphans are harmless)" if self.orphans else ""))
        return "\n".join(lines)


def check_folder(folder: str | os.PathLike) -> FolderReport:
    """Verify a folder without changing it; see the module docstring for what is checked."""
    store = ExperimentFolder(folder, read_only=True)
    report = FolderReport(store.path)
    if not store.path.is_dir():
        report.damage.append(f"{store.path}: no such folder")
        return report
    try:
        store.read_meta()
        if not isinstance(store.read_meta().get("data"), dict):
            report.damage.append(f"{store.path / 'clade.json'}: no 'data' object")
    except CladeStateError as exc:
        report.damage.append(str(exc))
    try:
        store.read_config()
    except (CladeStateError, ConfigError) as exc:
        report.damage.append(str(exc))
    tables = {name: _table(store, name, report) for name in TABLES}
    _check_models(store, tables, report)
    _find_orphans(store, tables, report)
    return report


def _table(store: ExperimentFolder, name: str, report: FolderReport) -> pd.DataFrame | None:
    path = store.table_path(name)
    if not path.exists():
        return pd.DataFrame()
    try:
        return read_parquet_checked(path, REQUIRED_COLUMNS[name])
    except CladeStateError as exc:
        report.damage.append(str(exc))
        return None


def _check_models(store: ExperimentFolder, tables: dict, report: FolderReport) -> None:
    phenotypes, genotypes = tables["phenotypes"], tables["genotypes"]
    if phenotypes is None or phenotypes.empty:
        return
    report.models = len(phenotypes)
    known = set(genotypes["model_id"]) if genotypes is not None and len(genotypes) else set()
    for row in phenotypes.itertuples(index=False):
        mid, status = row.model_id, row.status
        if genotypes is not None and mid not in known:
            report.damage.append(f"{mid}: has a phenotype row but no genotype in genotypes.parquet")
        needed = [store.path / "growth" / f"{mid}.{lvl}.parquet" for lvl in ("batches", "epochs")]
        if status in WITH_TEST_RESULTS:
            needed += [
                store.path / "results" / f"{mid}.{part}.parquet"
                for part in ("misclassified", "confusion")
            ]
        for path in needed:
            _check_part(path, mid, status, report)
        if status in WITH_MODEL_FILE:
            model = store.model_path(mid)
            if not model.is_file():
                report.damage.append(f"{mid} ({status}): model file {model} is missing")
            elif model.stat().st_size == 0:
                report.damage.append(f"{mid} ({status}): model file {model} is empty")


def _check_part(path: Path, mid: str, status: str, report: FolderReport) -> None:
    if not path.is_file():
        report.damage.append(f"{mid} ({status}): {path} is missing")
        return
    try:
        read_parquet_checked(path)
    except CladeStateError as exc:
        report.damage.append(f"{mid}: {exc}")


def _find_orphans(store: ExperimentFolder, tables: dict, report: FolderReport) -> None:
    phenotypes, genotypes = tables["phenotypes"], tables["genotypes"]
    recorded = set(phenotypes["model_id"]) if phenotypes is not None and len(phenotypes) else set()
    known = set(genotypes["model_id"]) if genotypes is not None and len(genotypes) else set()
    for path in sorted(store.path.rglob("*")):
        if not path.is_file() or path.name in (LOCK_NAME, OWNER_NAME):
            continue
        if path.name.endswith(".tmp") or ".tmp." in path.name:
            report.orphans.append(f"{path}: a temporary file left by an interrupted write")
            continue
        folder = path.parent.name
        if folder == "models" and (match := _MODEL_FILE.match(path.name)):
            mid, seed = match["id"], bool(match["kind"])
            if (seed and mid not in known) or (not seed and mid not in recorded):
                report.orphans.append(f"{path}: no {'genotype' if seed else 'phenotype'} row")
        elif (
            folder in ("growth", "results")
            and (match := _PART_FILE.match(path.name))
            and match["id"] not in recorded
        ):
            report.orphans.append(f"{path}: no phenotype row for {match['id']}")
