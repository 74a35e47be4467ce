"""Making a clade's data spec and checking its data before a folder exists; reading the
spec back from a folder. Pure functions, so the clade's constructor reads as its steps."""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from .config import CladeConfig
from .data import (
    BUILTIN_DATASETS,
    PER_CLASS_AVERAGE,
    Dataset,
    DataSpec,
    load_dataset,
    make_dataset,
    split_user_arrays,
)
from .errors import DamagedFolderError, DataError
from .storage import ExperimentFolder


def make_spec(
    config: CladeConfig, family: Any, folder: Path, data: Any, data_path: str
) -> tuple[DataSpec, tuple | None]:
    """The data spec and, for arrays given in Python, the checked arrays to save."""
    cfg = config
    common = {
        "form": family.form_for(data if isinstance(data, str) else ""),
        "max_words": cfg.max_words,
        "sequence_length": cfg.sequence_length,
        "validation_fraction": cfg.validation_fraction,
        "seed": cfg.seed,
        "stratify": cfg.stratify,
        "min_validation_samples": cfg.min_validation_samples,
        "min_validation_per_class": cfg.min_validation_per_class,
        "per_class_rule": PER_CLASS_AVERAGE,
        "scale_binary_features": False,
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
        target = (folder / "data" / "arrays.npz").resolve()
        return DataSpec(name="arrays", path=str(target), **common), arrays
    raise DataError(
        f"data {data!r}: allowed a built-in name ({', '.join(BUILTIN_DATASETS)}),"
        " a .npz path with x_train/y_train/x_test/y_test (and optionally x_val/y_val),"
        " or arrays (x, y), (x_train, y_train, x_test, y_test) or "
        "(x_train, y_train, x_val, y_val, x_test, y_test)"
    )


def validate_data(spec: DataSpec, arrays: tuple | None) -> Dataset | None:
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


def spec_from_meta(meta: dict[str, Any], store: ExperimentFolder) -> DataSpec:
    where = store.path / "clade.json"
    if not isinstance(meta.get("data"), dict):
        raise DamagedFolderError(f"{where}: no 'data' object (the data spec); the file is damaged")
    try:
        return DataSpec.from_dict(meta["data"])
    except TypeError as exc:
        raise DamagedFolderError(f"{where}: the 'data' object is not a data spec ({exc})") from None


def default_folder(kind: str, data: Any) -> Path:
    name = data if isinstance(data, str) and "/" not in data else "data"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("dlgene-runs") / f"{kind}-{name}-{stamp}"
