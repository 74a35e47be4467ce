"""Refit: retrain a searched genotype on train + validation and record it as a final model.

Selection needs validation data; once a genotype is chosen, that data is better spent on
training. The refit trains for the epoch count selection found best (phenotype column
``best_epoch``), is scored on the test split only, and is written to the folder's ``final``
table (model id ``final-<source id>``, files beside the searched models), never to the
phenotypes the search ranks.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import CladeStateError
from .export import FINAL_PREFIX, resolve_model_id, source_id
from .trainer import GrowJob, grow_one, model_seed

if TYPE_CHECKING:
    from .clade import Clade
    from .data import Dataset

# config fields (search branch) that watch validation data: off, since it is trained on
_VALIDATION_WATCHERS = {"early_stopping_patience": 0, "pruner": "none"}


def refit_epochs(clade: Clade, model_id: str) -> int:
    """The epoch count selection found best for a searched model (``best_epoch``)."""
    rows = clade.phenotypes[clade.phenotypes["model_id"] == model_id]
    if rows.empty:
        raise CladeStateError(f"refit: model {model_id!r} has no phenotype (not grown)")
    row = rows.iloc[0]
    for column in ("best_epoch", "epochs_run"):
        value = row.get(column)
        if value is not None and not pd.isna(value) and int(value) >= 1:
            return int(value)
    return int(clade.genotype(model_id)["epochs"])


def train_plus_validation(dataset: Dataset) -> Dataset:
    """The same data set with the validation split added to the training split."""
    return dataclasses.replace(
        dataset,
        x_train=np.concatenate([dataset.x_train, dataset.x_val]),
        y_train=np.concatenate([dataset.y_train, dataset.y_val]),
    )


def refit(clade: Clade, model_id: str = "best", epochs: int | None = None) -> pd.DataFrame:
    """Retrain ``model_id``'s genotype on train + validation; returns its ``final`` row."""
    source = source_id(resolve_model_id(clade, model_id))
    n_epochs = refit_epochs(clade, source) if epochs is None else int(epochs)
    if n_epochs < 1:
        raise ValueError(f"refit: epochs={epochs!r}; allowed: an integer >= 1 or None")
    dataset = clade._need_data()
    genotype = {**clade.genotype(source), "epochs": n_epochs}
    config = clade.config.to_dict()
    config.update({k: v for k, v in _VALIDATION_WATCHERS.items() if k in config})
    final_id = f"{FINAL_PREFIX}{source}"
    job = GrowJob(
        model_id=final_id,
        generation=int(clade.phenotypes.set_index("model_id").loc[source, "generation"]),
        kind=clade.config.kind,
        genotype=genotype,
        seed=model_seed(clade.config.seed, source),  # same start as the searched model
        config=config,
    )
    with clade._busy("refitting"):
        result = grow_one(job, train_plus_validation(dataset), clade._on_event, clade._stop.is_set)
    result.phenotype.update(_final_columns(source, n_epochs, dataset))
    result.phenotype["val_loss"] = math.nan  # validation data was trained on: no score
    result.phenotype["val_accuracy"] = math.nan
    clade.store.write_result(result, table="final")
    clade.message = (
        f"refit {source} on train + validation for {n_epochs} epochs: "
        f"test accuracy {result.phenotype['test_accuracy']:.4f} ({result.status})"
    )
    return pd.DataFrame([{k: v for k, v in result.phenotype.items() if k != "traceback"}])


def _final_columns(source: str, n_epochs: int, dataset: Dataset) -> dict[str, Any]:
    return {
        "source_id": source,
        "refit_epochs": n_epochs,
        "train_samples": len(dataset.y_train) + len(dataset.y_val),
    }
