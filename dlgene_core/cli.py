"""The ``dlgene`` command: evolve, resume and show experiment folders from a shell."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import pandas as pd

from .clade import CLADE_CLASSES, Clade
from .config import CladeConfig
from .data import BUILTIN_DATASETS

SHOW_COLUMNS = [
    "model_id",
    "status",
    "val_accuracy",
    "test_accuracy",
    "val_loss",
    "n_params",
    "train_time",
    "epochs_run",
]


class ProgressBar:
    """A one-line text progress bar fed by the clade's traitlets (no polling)."""

    def __init__(self, clade: Clade, stream: TextIO | None = None, width: int = 30):
        # sys.stderr looked up now, not at import: it may have been redirected since
        self.clade, self.stream, self.width = clade, stream or sys.stderr, width
        self._last = 0.0
        self.started = time.perf_counter()
        clade.observe(self._on_progress, names=["progress"])
        clade.observe(self._on_batch, names=["last_batch"])

    def _on_batch(self, change) -> None:
        now = time.perf_counter()
        if now - self._last >= 0.5:  # throttled: a terminal needs no more
            self._last = now
            self._draw(change["new"])

    def _on_progress(self, change) -> None:
        self._draw(self.clade.last_batch)

    def _draw(self, batch: dict) -> None:
        done, total = self.clade.progress
        filled = int(self.width * done / total) if total else 0
        bar = "#" * filled + "-" * (self.width - filled)
        detail = ""
        if batch:
            detail = (
                f" {batch.get('model_id', '')} epoch {batch.get('epoch', 0) + 1} "
                f"loss {batch.get('loss', float('nan')):.3f}"
            )
        elapsed = time.perf_counter() - self.started
        self.stream.write(
            f"\rgen {self.clade.generation} [{bar}] {done}/{total}{detail} {elapsed:6.0f}s   "
        )
        self.stream.flush()

    def close(self) -> None:
        self.clade.unobserve(self._on_progress, names=["progress"])
        self.clade.unobserve(self._on_batch, names=["last_batch"])
        self.stream.write("\n")


def format_best(clade: Clade, top: int) -> str:
    best = clade.best(top)
    if best.empty:
        return "no finished models yet"
    columns = [c for c in SHOW_COLUMNS if c in best]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        table = best[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}")
    winner = best.iloc[0]["model_id"]
    genes = clade.genotype(winner)
    return f"{table}\n\nbest genotype ({winner}): {genes}"


def show_as(clade: Clade, fmt: str) -> str:
    """``dlgene show --format``: the summary table as text, one JSON document, or CSV."""
    from .results import format_summary

    meta = {"folder": str(clade.store.path), "kind": clade.config.kind}
    return format_summary(clade.summary(), fmt, {**meta, "generation": clade.generation})


def format_final(clade: Clade) -> str:
    finals = clade.final_models()
    if finals.empty:
        return ""
    columns = ["model_id", "source_id", "status", "test_accuracy", "refit_epochs"]
    table = finals[[c for c in columns if c in finals]]
    return "\nfinal models (refit on train + validation):\n" + table.to_string(
        index=False, float_format=lambda v: f"{v:.4f}"
    )


def _summary(clade: Clade) -> str:
    ph = clade.phenotypes
    lines = [
        f"{type(clade).__name__} in {clade.store.path}: generation {clade.generation}, "
        f"{len(ph)} models finished"
    ]
    if len(ph):
        per_gen = ph.groupby("generation").agg(
            models=("model_id", "count"),
            mean_val=("val_accuracy", "mean"),
            best_val=("val_accuracy", "max"),
            mean_test=("test_accuracy", "mean"),
        )
        lines.append(per_gen.to_string(float_format=lambda v: f"{v:.4f}"))
    return "\n".join(lines)


def _run(clade: Clade, generations: int | None, executor, quiet: bool) -> None:
    bar = None if quiet else ProgressBar(clade)
    try:
        clade.load_data()
        clade.evolve(generations=generations, executor=executor)
    except KeyboardInterrupt:
        clade.stop()
        print("\ninterrupted: finished models are saved; `dlgene resume` goes on", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()


def _executor(args) -> str | None:
    if args.scheduler:
        return "dask"
    if args.workers:
        return "pool"
    return None


def _config_for(args, base: CladeConfig) -> CladeConfig:
    changes = {}
    if getattr(args, "kind", None):
        changes["kind"] = args.kind
    if args.workers:
        changes["workers"] = args.workers
    if args.scheduler:
        changes["scheduler"] = args.scheduler
    cfg = base.updated(**changes) if changes else base
    if getattr(args, "config", None):
        cfg = CladeConfig.from_json(args.config).updated(**changes)
    return cfg.update_from_strings(args.set or [])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlgene", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument(
            "--set",
            action="append",
            metavar="KEY=VALUE",
            help="override a config field (repeatable), e.g. population_size=8",
        )
        p.add_argument(
            "--workers", type=int, default=0, help="train in a pool of N worker processes"
        )
        p.add_argument("--scheduler", default="", help="train on the Dask scheduler at ADDRESS")
        p.add_argument(
            "--generations",
            type=int,
            default=None,
            help="generations in total (default: the config's)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--top", type=int, default=5, help="best models to print at the end")

    ev = sub.add_parser("evolve", help="start a new clade and evolve it")
    ev.add_argument(
        "--data",
        default="digits",
        help=f"built-in data set ({', '.join(BUILTIN_DATASETS)}) or a .npz path",
    )
    ev.add_argument("--data-path", default="", help="local file for a built-in set (Reuters)")
    ev.add_argument("--out", required=True, help="experiment folder to create")
    ev.add_argument("--kind", default=None, help="clade kind: GAFC1, GACNN1 or GARNN1")
    ev.add_argument("--config", default=None, help="a config.json to start from")
    common(ev)

    rs = sub.add_parser("resume", help="continue an experiment folder where it stopped")
    rs.add_argument("folder")
    common(rs)

    sh = sub.add_parser("show", help="print the best models of an experiment folder")
    sh.add_argument("folder")
    sh.add_argument("--top", type=int, default=5)
    sh.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default=None,
        help="every model with its genes as data (default: the best models, as text)",
    )

    ex = sub.add_parser("export", help="write a model as a .keras file plain Keras loads")
    ex.add_argument("folder")
    ex.add_argument("--model", default="best", help="'best', 'final' or a model id")
    ex.add_argument("--out", required=True, help="the .keras file to write")

    rp = sub.add_parser("report", help="write a self-contained HTML report of a folder")
    rp.add_argument("folder")
    rp.add_argument("--out", default=None, help="HTML file (default: FOLDER/report.html)")

    args = parser.parse_args(argv)
    try:
        if args.command == "show":
            clade = Clade.open(args.folder)
            if args.format:
                print(show_as(clade, args.format))
                return 0
            print(_summary(clade))
            print(format_best(clade, args.top))
            final = format_final(clade)
            if final:
                print(final)
            return 0
        if args.command == "export":
            path = Clade.open(args.folder).export(args.model, args.out)
            print(f"wrote {path}")
            return 0
        if args.command == "report":
            from .report import write_report

            path = write_report(Clade.open(args.folder), args.out)
            print(f"wrote {path}")
            return 0
        if args.command == "evolve":
            cfg = _config_for(args, CladeConfig())
            clade = CLADE_CLASSES.get(cfg.kind, Clade)(
                cfg, data=args.data, folder=args.out, data_path=args.data_path
            )
        else:
            clade = Clade.open(args.folder)
            if args.set or args.workers or args.scheduler:
                clade.config = _config_for(args, clade.config)
                clade.store.write_config(clade.config)
        _run(clade, args.generations, _executor(args), args.quiet)
        print(_summary(clade))
        print(format_best(clade, args.top))
        return 0
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:
        print(f"dlgene: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
