"""The wire types and the one status vocabulary: what a job is, what a result holds, the
columns of the folder's tables, and what each status means to the rest of dlgene.

Kept free of Keras and of the executors, so a worker, the clade, the strategies and the
panels all read the same definitions (a new status or column is one edit here).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PHENOTYPE_COLUMNS = (
    "model_id",
    "generation",
    "kind",
    "status",
    "reason",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "test_loss",
    "test_accuracy",
    "n_params",
    "train_time",
    "epochs_run",
    "best_epoch",
    "batches_run",
    "worker",
    "repairs",
    "duplicate_of",
)
BATCH_COLUMNS = ("epoch", "batch", "loss", "accuracy", "time")
EPOCH_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "time")

# Every status a phenotype row may carry, and what it means.
STATUSES: dict[str, str] = {
    "ok": "trained all its epochs (or stopped early on its validation loss)",
    "timed_out": "stopped at the time or step budget; its metrics are of the epochs it ran",
    "pruned": "stopped by the pruner: below earlier models at the same epoch",
    "diverged": "the loss became NaN or infinite",
    "failed": "could not be built or trained (the reason says why), or its worker died",
    "duplicate": "a repeat of a trained genotype: carries that model's result, not trained",
    "stopped": "stopped by a person; not recorded, grown again on resume",
}
# Recorded for good: resume never grows these again.
FINISHED_STATUSES = ("ok", "timed_out", "diverged", "failed", "pruned", "duplicate")
# Ranked first by the selection metric (trained as far as their budget allowed).
USABLE_STATUSES = ("ok", "timed_out")
# Ranked after every usable model: stopped by the pruner, their metric is of fewer epochs.
RANKED_AFTER_USABLE = ("pruned",)
# Members of an aging population (a pruned model still competes, and loses to the others).
MEMBER_STATUSES = (*USABLE_STATUSES, *RANKED_AFTER_USABLE)
# Models whose trained .h5 file the folder keeps, and those evaluated on the test split.
MODEL_FILE_STATUSES = ("ok", "timed_out", "diverged", "pruned")
TEST_RESULT_STATUSES = ("ok", "timed_out", "pruned")
# Models with a learning curve worth comparing in the panels.
CURVE_STATUSES = ("ok", "timed_out", "diverged", "pruned")


@dataclass
class GrowJob:
    """Everything a worker needs to grow one model (JSON-friendly)."""

    model_id: str
    generation: int
    kind: str
    genotype: dict[str, Any]
    seed: int
    config: dict[str, Any]
    # per epoch (0-based), the value the selection metric must reach to go on (NaN: no
    # check); made by the clade from earlier models, so workers need no shared state
    prune_thresholds: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ModelResult:
    """What growing one model gave: its phenotype row, growth tables, test details and the
    trained model as .h5 bytes (so a result can travel back from any worker)."""

    model_id: str
    phenotype: dict[str, Any]
    batches: pd.DataFrame
    epochs: pd.DataFrame
    misclassified: pd.DataFrame | None = None
    confusion: np.ndarray | None = None
    model_h5: bytes | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.phenotype["status"])
