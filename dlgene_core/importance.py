"""Which genes drive the metric: gene features and their permutation importance.

``gene_features`` turns a genotypes table into one column per gene (numbers stay numbers,
text genes become categories; a per-layer list gene is summarised, numbers by their mean and
text by its most common value), the form the parallel-coordinates plot and the importance
share. ``gene_importance`` fits a small random forest (genes -> metric) and measures how
much the forest's fit drops when one gene's column is shuffled (permutation importance).

Why permutation importance on a forest and not fANOVA: it needs nothing beyond
scikit-learn (already a dependency; fANOVA needs an extra package with a compiled core),
it takes categorical genes as they are (ordinal codes in a tree; no one-hot split of one
gene into many columns, so one gene gets one score), and with the few tens of models a
search has it stays usable: the forest averages many shallow trees, and the score is a
drop in fit measured on the same models, with its spread over repeats reported beside it.
Scores are relative (what the forest relies on), not causal effects.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

# genotype columns that are bookkeeping, not genes
NOT_GENES = ("model_id", "generation", "kind", "parents", "mutations", "duplicate_of")
MIN_MODELS = 5  # fewer models than this give no meaningful importance


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _summary(values: pd.Series) -> tuple[str, pd.Series]:
    """A list gene as one value per model: its mean (numbers) or most common item (text)."""
    items = [list(v) if _is_list(v) else [] for v in values]
    flat = [x for row in items for x in row]
    if flat and all(isinstance(x, int | float | np.integer | np.floating) for x in flat):
        means = [float(np.mean(row)) if row else np.nan for row in items]
        return "mean", pd.Series(means, index=values.index, dtype=float)
    modes = []
    for row in items:
        counts = Counter(str(x) for x in row)
        top = max(counts.values()) if counts else 0
        modes.append(min(k for k, c in counts.items() if c == top) if counts else "")
    return "most common", pd.Series(modes, index=values.index, dtype=object)


def gene_features(genotypes: pd.DataFrame) -> pd.DataFrame:
    """One column per gene, indexed by model id: float for numeric genes, str for text genes.

    A per-layer list gene ``layers_units`` becomes ``layers_units (mean)``; a text list gene
    ``layers_activation`` becomes ``layers_activation (most common)``.
    """
    if "model_id" not in genotypes.columns:
        raise ValueError(
            f"genotypes: no 'model_id' column (columns: {list(genotypes.columns)}); "
            "allowed: a genotypes table as the clade stores it"
        )
    out: dict[str, pd.Series] = {}
    for column in genotypes.columns:
        if column in NOT_GENES:
            continue
        values = genotypes[column]
        first = next((v for v in values if v is not None), None)
        if _is_list(first):
            how, series = _summary(values)
            out[f"{column} ({how})"] = series
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            out[column] = values.astype(float)
        else:
            out[column] = values.map(lambda v: "" if v is None else str(v)).astype(object)
    frame = pd.DataFrame(out)
    frame.index = pd.Index(genotypes["model_id"].astype(str), name="model_id")
    return frame


def categories(features: pd.DataFrame) -> dict[str, list[str]]:
    """The text genes and their categories in sorted order (the ordinal codes' meaning)."""
    return {
        column: sorted({str(v) for v in features[column]})
        for column in features.columns
        if features[column].dtype == object
    }


def encode(features: pd.DataFrame) -> np.ndarray:
    """Features as a float matrix: text genes as the index of their sorted category."""
    cats = categories(features)
    columns = []
    for column in features.columns:
        if column in cats:
            codes = {c: i for i, c in enumerate(cats[column])}
            columns.append(features[column].map(lambda v, codes=codes: codes[str(v)]))
        else:
            columns.append(features[column])
    if not columns:
        return np.zeros((len(features), 0))
    return np.column_stack([np.asarray(c, dtype=float) for c in columns])


def gene_importance(
    features: pd.DataFrame,
    metric: pd.Series | np.ndarray,
    n_estimators: int = 60,
    n_repeats: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Permutation importance of each gene for ``metric``, largest first.

    ``features`` from :func:`gene_features`; ``metric`` one value per row (rows with a
    missing metric are left out). Returns columns ``gene``, ``importance`` (mean drop of the
    forest's R^2 when the gene is shuffled) and ``std`` (over ``n_repeats`` shuffles).
    """
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    y = np.asarray(metric, dtype=float).reshape(-1)
    if len(y) != len(features):
        raise ValueError(
            f"metric: {len(y)} values for {len(features)} feature rows; allowed: one per row"
        )
    keep = np.isfinite(y)
    x = encode(features)[keep]
    y = y[keep]
    if len(y) < MIN_MODELS:
        raise ValueError(
            f"metric: {len(y)} finite values; allowed: at least {MIN_MODELS} models with a "
            "metric (importance of fewer is noise)"
        )
    # a missing gene value (a list gene of an empty stack) counts as the gene's mean
    x = pd.DataFrame(x).replace([np.inf, -np.inf], np.nan)
    x = x.fillna(x.mean()).fillna(0.0).to_numpy()
    forest = RandomForestRegressor(
        n_estimators=n_estimators, min_samples_leaf=2, random_state=seed, n_jobs=1
    )
    forest.fit(x, y)
    if np.ptp(y) == 0:  # a constant metric: nothing to explain, no gene matters
        scores = np.zeros(x.shape[1])
        spread = np.zeros(x.shape[1])
    else:
        result = permutation_importance(
            forest, x, y, n_repeats=n_repeats, random_state=seed, n_jobs=1
        )
        scores, spread = result.importances_mean, result.importances_std
    table = pd.DataFrame({"gene": list(features.columns), "importance": scores, "std": spread})
    return table.sort_values(["importance", "gene"], ascending=[False, True]).reset_index(drop=True)
