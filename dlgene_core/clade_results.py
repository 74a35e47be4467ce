"""The read side of a clade: tables, curves, rankings, the Pareto front, and taking the
best model out (export, refit, predict, summary).

A mixin of :class:`~dlgene_core.clade.Clade`; nothing here changes the search.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import objectives_of
from .errors import DamagedFolderError
from .modelfiles import load_model_safely
from .pareto import pareto_front, rank_by_objectives


class ResultsMixin:
    """Queries over a clade's folder and state, and the ways its models leave it."""

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
        ties by the lower validation loss, then the older model; several: Pareto front
        first, then crowding distance), with their test scores."""
        table = self.phenotypes if generation is None else self.generation_phenotypes(generation)
        if table.empty:
            return table
        ranked = rank_by_objectives(table, objectives_of(self.config), break_ties=True)
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

    def has_final_models(self) -> bool:
        """Whether any model was refit (without reading the table: panels ask often)."""
        return self.store.table_path("final").exists()

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
