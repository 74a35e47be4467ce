"""The run's results as data: one table of every model with its genes and its scores.

``summary`` is what KerasTuner's ``results_summary`` and Optuna's ``trials_dataframe`` give:
ranked models (best first by the selection metric; unusable ones after), each row the
phenotype joined with the genotype, refit final models at the end (``role`` = "final").
List genes (one value per layer) are kept as lists in the frame and written as JSON text
in CSV and table output.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .config import objectives_of
from .pareto import rank_by_objectives

if TYPE_CHECKING:
    from .clade import Clade

FORMATS = ("table", "json", "csv")
_GENOTYPE_SKIP = ("generation", "kind")


def summary(clade: Clade, include_final: bool = True) -> pd.DataFrame:
    """Every finished model, ranked, with its genes; final (refit) models last."""
    phenotypes = clade.phenotypes
    if phenotypes.empty:
        return pd.DataFrame(columns=["rank", "role", *phenotypes.columns])
    ranked = rank_by_objectives(phenotypes, objectives_of(clade.config), break_ties=True)
    rest = phenotypes[~phenotypes["model_id"].isin(set(ranked["model_id"]))]
    table = pd.concat([ranked, rest.sort_values("model_id")], ignore_index=True)
    table.insert(0, "rank", [*range(1, len(ranked) + 1), *([pd.NA] * len(rest))])
    table.insert(1, "role", "searched")
    genes = clade.all_genotypes.drop(columns=list(_GENOTYPE_SKIP), errors="ignore")
    # a column both tables hold (duplicate_of) is the phenotype's: one column per name
    genes = genes.drop(columns=[c for c in genes if c != "model_id" and c in table])
    table = table.merge(genes, on="model_id", how="left")
    finals = clade.final_models() if include_final else pd.DataFrame()
    if len(finals):
        finals = finals.copy()
        finals.insert(0, "rank", pd.NA)
        finals.insert(1, "role", "final")
        source_genes = genes.set_index("model_id").loc[finals["source_id"]].reset_index(drop=True)
        source_genes = source_genes.drop(columns=[c for c in source_genes if c in finals])
        finals = pd.concat([finals.reset_index(drop=True), source_genes], axis=1)
        table = pd.concat([table, finals], ignore_index=True)
    return table


def format_summary(table: pd.DataFrame, fmt: str = "table", meta: dict | None = None) -> str:
    """The summary as text: an aligned ``table``, ``json`` (one document) or ``csv``."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: allowed {', '.join(FORMATS)}")
    if fmt == "json":
        records = json.loads(table.to_json(orient="records", double_precision=10))
        return json.dumps({**(meta or {}), "models": records}, indent=2)
    flat = table.copy()
    for column in flat.columns:
        if flat[column].dtype == object and flat[column].map(_is_list).any():
            flat[column] = flat[column].map(_as_json_text)
    if fmt == "csv":
        return flat.to_csv(index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        return flat.to_string(index=False, float_format=lambda v: f"{v:.4f}")


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _as_json_text(value: object) -> object:
    return json.dumps(np.asarray(value).tolist()) if _is_list(value) else value
