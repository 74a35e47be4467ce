"""EvolvedClassifier: a dlgene search as a scikit-learn classifier.

``fit(X, y)`` runs a whole search (``generations`` of the config's population) in a fresh
experiment folder, optionally refits the winner on train + validation, and keeps the
best model for ``predict`` / ``predict_proba`` / ``score``. It follows the estimator
contract (``__init__`` only stores its parameters, so ``clone``, ``get_params`` /
``set_params``, ``Pipeline`` and ``cross_val_score`` work); labels may be any sortable
values (``classes_``, as scikit-learn encodes them).

Each fit is a search: keep budgets small (population, generations, epochs) when it runs
inside cross-validation.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

from .config import CladeConfig


class EvolvedClassifier(ClassifierMixin, BaseEstimator):
    """Evolve a Keras classifier for ``(X, y)`` and predict with the best model found.

    Parameters
    ----------
    config : CladeConfig, dict or None
        The search space and run settings (``None``: ``CladeConfig()``). Never modified.
    folder : path or None
        Parent folder for the experiment folders; every ``fit`` creates a new one inside
        (``None``: a temporary folder). The folder of the last fit is ``clade_.store.path``.
    generations : int or None
        Generations to evolve (``None``: ``config.generations``).
    refit : bool
        Retrain the best genotype on train + validation after the search and predict with
        that final model.
    executor : str or None
        Where models train (``None``: the config's executor), as in ``Clade.evolve``.
    """

    def __init__(
        self,
        config: CladeConfig | dict | None = None,
        folder: str | os.PathLike | None = None,
        generations: int | None = None,
        refit: bool = False,
        executor: str | None = None,
    ):
        self.config = config
        self.folder = folder
        self.generations = generations
        self.refit = refit
        self.executor = executor

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> EvolvedClassifier:
        from .clade import clade_class

        X, y = check_X_y(X, y, allow_nd=True, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y: EvolvedClassifier needs at least 2 classes, got 1 class ({self.classes_[0]!r})"
            )
        self.n_features_in_ = int(X.shape[1])
        cfg = self._config()
        kind = clade_class(cfg.kind)
        clade = kind(cfg, data=(X, encoded.astype(np.int64)), folder=self._new_folder())
        clade.load_data()
        clade.evolve(generations=self.generations, executor=self.executor)
        self.model_id_ = str(clade.best(1)["model_id"].iloc[0])
        if self.refit:
            self.model_id_ = str(clade.refit(self.model_id_)["model_id"].iloc[0])
        from .export import load_compiled

        self.best_model_ = load_compiled(clade, self.model_id_)
        self.clade_ = clade
        return self

    def _config(self) -> CladeConfig:
        if self.config is None:
            return CladeConfig()
        if isinstance(self.config, CladeConfig):
            return self.config.copy()
        if isinstance(self.config, dict):
            return CladeConfig.from_dict(self.config)
        raise TypeError(
            f"config: got {type(self.config).__name__}; allowed: a CladeConfig, a dict or None"
        )

    def _new_folder(self) -> Path:
        parent = Path(self.folder) if self.folder is not None else Path(tempfile.mkdtemp())
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return parent / f"fit-{stamp}-{uuid.uuid4().hex[:8]}"

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "best_model_")
        X = check_array(X, allow_nd=True, dtype=np.float32)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but EvolvedClassifier is expecting "
                f"{self.n_features_in_} features as input"
            )
        probs = self.clade_.predict_proba(X, self.model_id_)
        if probs.shape[1] < len(self.classes_):  # a class absent from the training split
            probs = np.pad(probs, ((0, 0), (0, len(self.classes_) - probs.shape[1])))
        return probs

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "best_model_")
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
