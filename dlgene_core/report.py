"""``dlgene report``: one self-contained HTML file of a run, to hand to someone without a kernel.

Pictures are drawn by matplotlib (Agg backend, no display needed) and embedded as base64
PNG ``data:`` URIs; styles are inline; the page loads nothing from anywhere, so it opens
offline, from an e-mail attachment or a shared drive.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .clade import Clade

TOP_CURVES = 5
BEST_COLUMNS = [
    "rank",
    "model_id",
    "generation",
    "status",
    "val_accuracy",
    "test_accuracy",
    "val_loss",
    "n_params",
    "train_time",
    "best_epoch",
]
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e4e4e4; text-align: right; }
th { background: #f3f3f3; } img { max-width: 100%; height: auto; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; } .meta { color: #666; }
.scroll { overflow: auto; max-height: 40em; border: 1px solid #e4e4e4; }
.scroll th { position: sticky; top: 0; }
"""


def _figure() -> tuple[Figure, object]:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    fig = Figure(figsize=(5.3, 3.8), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def png_data_uri(fig: Figure) -> str:
    """A figure as a ``data:image/png;base64`` URI (Agg canvas, nothing on disk)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def scatter_figure(clade: Clade) -> Figure:
    """Every usable model: size against the selection metric, coloured by generation.
    Models with the same size and score (a child that repeats its parent's size and
    result) draw as one larger point labelled with their count, coloured by the latest."""
    metric = clade.config.selection_metric
    table = clade.phenotypes[np.isfinite(clade.phenotypes[metric].astype(float))]
    points_table = (
        table.groupby(["n_params", metric], sort=False)
        .agg(generation=("generation", "max"), models=("model_id", "size"))
        .reset_index()
    )
    fig, ax = _figure()
    points = ax.scatter(
        points_table["n_params"].clip(lower=1),
        points_table[metric],
        c=points_table["generation"],
        cmap="viridis",
        s=22 * points_table["models"],
        alpha=0.7,
        edgecolors="k",
        linewidths=0.3,
    )
    for row in points_table[points_table["models"] > 1].itertuples():
        ax.annotate(
            f"x{row.models}",
            (max(float(row.n_params), 1.0), float(getattr(row, metric))),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=7,
        )
    best = clade.best(1)
    if len(best):
        ax.scatter(best["n_params"], best[metric], s=200, marker="*", c="red", label="best")
        ax.legend(loc="lower right")
    ax.set_xscale("log")
    ax.set(xlabel="parameters", ylabel=metric, title="all models")
    generations = sorted(int(g) for g in set(table["generation"]))
    fig.colorbar(points, ax=ax, label="generation", ticks=generations)
    return fig


def curves_figure(clade: Clade, model_ids: list[str]) -> Figure:
    """Validation accuracy per epoch of the best models (their learning curves)."""
    fig, ax = _figure()
    for model_id in model_ids:
        try:
            epochs = clade.growth(model_id, "epochs")
        except KeyError:
            continue
        (line,) = ax.plot(epochs["epoch"] + 1, epochs["val_accuracy"], marker="o", label=model_id)
        ax.plot(epochs["epoch"] + 1, epochs["accuracy"], linestyle=":", color=line.get_color())
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(xlabel="epoch", ylabel="accuracy", title="learning curves (val solid, train dotted)")
    if model_ids:
        ax.legend(fontsize="small")
    return fig


def confusion_figure(matrix: np.ndarray, labels: list, title: str) -> Figure:
    fig, ax = _figure()
    ax.imshow(matrix, cmap="Blues")
    ticks = range(len(labels))
    ax.set_xticks(ticks, [str(v) for v in labels], rotation=90 if len(labels) > 12 else 0)
    ax.set_yticks(ticks, [str(v) for v in labels])
    if len(labels) <= 20:
        limit = matrix.max() / 2 if matrix.size else 0
        for (i, j), value in np.ndenumerate(matrix):
            colour = "white" if value > limit else "black"
            ax.text(j, i, str(int(value)), ha="center", va="center", color=colour, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return fig


def _image(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}" class="figure">'


def _table(frame: pd.DataFrame) -> str:
    flat = frame.copy()
    for column in flat.columns:
        if flat[column].dtype == object:
            flat[column] = flat[column].map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, list | np.ndarray) else v
            )
    return flat.to_html(index=False, escape=True, na_rep="", float_format=lambda v: f"{v:.4g}")


def build_report(clade: Clade) -> str:
    """The report's HTML text."""
    summary = clade.summary()
    best = clade.best(TOP_CURVES)
    ids = list(best["model_id"])
    sections = [
        f"<h1>dlgene run: {html.escape(clade.store.path.name)}</h1>",
        f'<p class="meta">{html.escape(clade.config.kind)} clade, generation '
        f"{clade.generation}, {len(clade.phenotypes)} models finished, data "
        f"{html.escape(clade.data_spec.name)}, selection on "
        f"{html.escape(clade.config.selection_metric)}; written "
        f"{_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC</p>",
        "<h2>Best models</h2>",
        _table(summary[summary["role"] == "searched"][BEST_COLUMNS].head(10))
        if len(summary)
        else "<p>no finished models yet</p>",
    ]
    finals = clade.final_models()
    if len(finals):
        columns = ["model_id", "source_id", "status", "test_accuracy", "refit_epochs"]
        sections += ["<h2>Final models (refit on train + validation)</h2>", _table(finals[columns])]
    figures = []
    if len(clade.phenotypes):
        figures.append(_image(png_data_uri(scatter_figure(clade)), "all models"))
        figures.append(_image(png_data_uri(curves_figure(clade, ids)), "learning curves"))
    if ids:
        try:
            matrix = clade.confusion_matrix(ids[0])
        except KeyError:
            matrix = None
        if matrix is not None:
            labels = _class_labels(clade, matrix.shape[0])
            title = f"confusion matrix of {ids[0]} (test)"
            figures.append(_image(png_data_uri(confusion_figure(matrix, labels, title)), title))
    sections += ["<h2>Pictures</h2>", f'<div class="figures">{"".join(figures)}</div>']
    genotypes = clade.all_genotypes.drop(columns=["kind"], errors="ignore")
    sections += ["<h2>Genotypes</h2>", f'<div class="scroll">{_table(genotypes)}</div>']
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>dlgene report: {html.escape(clade.store.path.name)}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _class_labels(clade: Clade, n: int) -> list:
    classes = list(clade._need_data().classes)
    return classes if len(classes) == n else list(range(n))


def write_report(clade: Clade, out: str | os.PathLike | None = None) -> Path:
    """Write the report (default ``FOLDER/report.html``) atomically; return its path."""
    path = Path(out) if out else clade.store.path / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(build_report(clade), encoding="utf-8")
    os.replace(tmp, path)
    return path
