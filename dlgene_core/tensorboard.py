"""TensorBoard logs of a run (optional, ``config.tensorboard``): per-model scalars and HParams.

Written by the clade from the growth tables it has just recorded, after each model, so it
works the same whichever executor trained the model (in process, pool, Dask) and can be
rebuilt for an old folder with :func:`write_run`. Layout::

    FOLDER/tensorboard/                 the HParams experiment (genes and metrics)
    FOLDER/tensorboard/<model_id>/      epoch and batch scalars plus this model's genes

``tensorboard --logdir FOLDER/tensorboard`` then shows every model's genes against its
metrics (HParams tab) and its learning curves (Scalars tab). Needs the ``tensorboard``
package (``pip install dlgene[tensorboard]``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .clade import Clade

METRICS = ("val_accuracy", "val_loss", "test_accuracy", "test_loss", "n_params", "train_time")
EPOCH_SCALARS = ("loss", "accuracy", "val_loss", "val_accuracy")


def log_dir(clade: Clade) -> Path:
    return clade.store.path / "tensorboard"


def require_tensorboard() -> None:
    """Raise a clear ImportError now when ``config.tensorboard`` cannot be honoured."""
    _hp_api()


def _hp_api():
    try:
        from tensorboard.plugins.hparams import api as hp
    except ImportError as exc:  # config.tensorboard=True without the package
        raise ImportError(
            "config field 'tensorboard' is True but the tensorboard package is not installed; "
            "pip install tensorboard (or dlgene[tensorboard])"
        ) from exc
    return hp


def hparams_of(genotype_row: pd.Series) -> dict[str, bool | int | float | str]:
    """A model's genes as HParams values (per-layer lists become JSON text)."""
    values: dict[str, bool | int | float | str] = {}
    for key, value in genotype_row.items():
        if key in ("model_id", "parents", "mutations"):
            continue
        if isinstance(value, list | tuple | np.ndarray):
            value = json.dumps(np.asarray(value).tolist())
        elif isinstance(value, np.generic):
            value = value.item()
        values[str(key)] = value
    return values


def write_model(clade: Clade, model_id: str) -> None:
    """One model's scalars and HParams, from what the folder recorded for it."""
    import tensorflow as tf

    hp = _hp_api()
    root = log_dir(clade)
    _write_experiment(clade, root, hp)
    rows = clade.phenotypes[clade.phenotypes["model_id"] == model_id]
    genes = clade.all_genotypes[clade.all_genotypes["model_id"] == model_id]
    if rows.empty or genes.empty:
        return
    phenotype = rows.iloc[0]
    writer = tf.summary.create_file_writer(str(root / model_id))
    with writer.as_default():
        hp.hparams(hparams_of(genes.iloc[0]), trial_id=model_id)
        _write_growth(clade, model_id)
        for metric in METRICS:
            value = float(phenotype.get(metric, math.nan))
            if math.isfinite(value):
                tf.summary.scalar(f"final/{metric}", value, step=0)
    writer.close()


def write_run(clade: Clade) -> Path:
    """(Re)write the logs of every finished model: for folders grown without the flag."""
    for model_id in clade.phenotypes["model_id"]:
        write_model(clade, str(model_id))
    return log_dir(clade)


def _write_growth(clade: Clade, model_id: str) -> None:
    import tensorflow as tf

    try:
        epochs = clade.growth(model_id, "epochs")
        batches = clade.growth(model_id, "batches")
    except KeyError:
        return
    for row in epochs.itertuples(index=False):
        for name in EPOCH_SCALARS:
            value = float(getattr(row, name))
            if math.isfinite(value):
                tf.summary.scalar(f"epoch/{name}", value, step=int(row.epoch) + 1)
    for step, loss in enumerate(batches["loss"].astype(float)):
        if math.isfinite(loss):
            tf.summary.scalar("batch/loss", loss, step=step)


def _write_experiment(clade: Clade, root: Path, hp: Any) -> None:
    """The HParams experiment: which genes and metrics the dashboard's columns are."""
    marker = root / ".experiment"
    if marker.exists():
        return
    import tensorflow as tf

    root.mkdir(parents=True, exist_ok=True)
    genes = clade.all_genotypes
    names = [c for c in genes.columns if c not in ("model_id", "parents", "mutations")]
    writer = tf.summary.create_file_writer(str(root))
    with writer.as_default():
        hp.hparams_config(
            hparams=[hp.HParam(name) for name in names],
            metrics=[hp.Metric(f"final/{m}", display_name=m) for m in METRICS],
        )
    writer.close()
    marker.write_text(json.dumps({"hparams": names, "metrics": list(METRICS)}))
