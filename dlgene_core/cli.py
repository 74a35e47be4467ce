"""The ``dlgene`` command: evolve, resume and show experiment folders from a shell."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import pandas as pd

from .clade import Clade, clade_class
from .config import PRESETS, STRATEGIES, CladeConfig
from .data import BUILTIN_DATASETS
from .executors import implied_executor
from .families import family_names
from .quiet import filter_native_stderr, quiet_environment

INTERRUPTED = 130  # the shell's code for a run ended by Ctrl-C (128 + SIGINT)

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
    if best.empty and len(clade.phenotypes):
        return (
            f"no usable model: {_status_counts(clade.phenotypes)} (none has a validation "
            "score; the reason column of `phenotypes.parquet` says why)"
        )
    if best.empty:
        return "no finished models yet"
    columns = [c for c in SHOW_COLUMNS if c in best]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        table = best[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}")
    winner = best.iloc[0]["model_id"]
    genes = clade.genotype(winner)
    return f"{table}\n\nbest genotype ({winner}): {genes}"


def _status_counts(phenotypes: pd.DataFrame) -> str:
    counts = phenotypes["status"].value_counts()
    if len(counts) == 1:
        return f"all {len(phenotypes)} models {counts.index[0]}"
    return ", ".join(f"{n} {status}" for status, n in counts.items())


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
    last = clade.generation
    span = "1 generation (0)" if last == 0 else f"{last + 1} generations (0-{last})"
    recorded = f"{len(ph)} models recorded: {_status_counts(ph)}" if len(ph) else "no models yet"
    lines = [f"{type(clade).__name__} in {clade.store.path}: {span}, {recorded}"]
    if len(ph):
        per_gen = ph.groupby("generation").agg(
            models=("model_id", "count"),
            mean_val=("val_accuracy", "mean"),
            best_val=("val_accuracy", "max"),
            mean_test=("test_accuracy", "mean"),
        )
        lines.append(per_gen.to_string(float_format=lambda v: f"{v:.4f}"))
    return "\n".join(lines)


def _run(clade: Clade, generations: int | None, executor, quiet: bool) -> bool:
    """Evolve with a progress bar; False when Ctrl-C ended it."""
    clade.load_data()
    print(f"dlgene: {clade.message}", file=sys.stderr)
    bar = None if quiet else ProgressBar(clade)
    try:
        clade.evolve(generations=generations, executor=executor)
        return True
    except KeyboardInterrupt:
        clade.stop()
        if bar is not None:
            bar.close()
            bar = None
        print("interrupted: finished models are saved; `dlgene resume` goes on", file=sys.stderr)
        return False
    finally:
        if bar is not None:
            bar.close()


def _config_for(args, base: CladeConfig) -> CladeConfig:
    changes = {}
    if getattr(args, "kind", None):
        changes["kind"] = args.kind
    # the flags are written into the config, so the folder says where its models train
    # and `dlgene resume` without them trains there again
    if args.workers:
        changes.update(workers=args.workers, executor="pool")
    if args.scheduler:
        changes.update(scheduler=args.scheduler, executor="dask")
    if getattr(args, "strategy", None):
        changes["strategy"] = args.strategy
    if getattr(args, "preset", None):
        base = CladeConfig.from_preset(args.preset)
    cfg = base.updated(**changes) if changes else base
    if getattr(args, "config", None):
        cfg = CladeConfig.from_json(args.config).updated(**changes)
    cfg = cfg.update_from_strings(args.set or [])
    implied_executor(cfg)  # a contradiction (pool + scheduler) fails before anything is written
    return cfg


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {text!r}; allowed: an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"got {value}; allowed: an integer >= {minimum}")
        return value

    return parse


def _check_out(out: str) -> None:
    if os.path.exists(out) and not os.path.isdir(out):
        raise FileExistsError(f"--out {out!r} is an existing file; allowed: a new folder")


def console_main() -> int:
    """The ``dlgene`` command: :func:`main`, with TensorFlow's C++ log lines filtered out
    of the process's stderr unless ``--verbose`` (see :mod:`dlgene_core.quiet`)."""
    if "--verbose" not in sys.argv[1:]:
        filter_native_stderr()
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before or after the run (e.g. while data loads)
        print("\ndlgene: interrupted", file=sys.stderr)
        return INTERRUPTED


def _training_flags(p: argparse.ArgumentParser) -> None:
    """Flags of the commands that train (evolve, resume)."""
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config field (repeatable), e.g. population_size=8",
    )
    p.add_argument(
        "--workers", type=_at_least(0), default=0, help="train in a pool of N worker processes"
    )
    p.add_argument("--scheduler", default="", help="train on the Dask scheduler at ADDRESS")
    p.add_argument(
        "--generations",
        type=_at_least(1),
        default=None,
        help="generations in total (default: the config's)",
    )
    p.add_argument(
        "--strategy",
        default=None,
        choices=list(STRATEGIES),
        help="how children are chosen (default: the config's)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true", help="show TensorFlow's own log and warnings")
    p.add_argument("--top", type=_at_least(1), default=5, help="best models to print at the end")


def _training_parsers(sub) -> None:
    ev = sub.add_parser("evolve", help="start a new clade and evolve it")
    ev.add_argument(
        "--data",
        default="digits",
        help=f"built-in data set ({', '.join(BUILTIN_DATASETS)}) or a .npz path",
    )
    ev.add_argument("--data-path", default="", help="local file for a built-in set (Reuters)")
    ev.add_argument("--out", required=True, help="experiment folder to create")
    ev.add_argument("--kind", default=None, help="clade kind: " + ", ".join(family_names()))
    ev.add_argument("--config", default=None, help="a config.json to start from")
    ev.add_argument(
        "--preset",
        default=None,
        choices=list(PRESETS),
        help="search space to start from: default (CladeConfig()) or classic (the 2017 one)",
    )
    _training_flags(ev)
    rs = sub.add_parser("resume", help="continue an experiment folder where it stopped")
    rs.add_argument("folder")
    _training_flags(rs)


def _reading_parsers(sub) -> None:
    sh = sub.add_parser("show", help="print the best models of an experiment folder")
    sh.add_argument("folder")
    sh.add_argument("--top", type=_at_least(1), default=5)
    sh.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default=None,
        help="every model with its genes as data (default: the best models, as text)",
    )
    ck = sub.add_parser(
        "check", help="verify a folder: every model's files; list damage and orphans"
    )
    ck.add_argument("folder")
    ex = sub.add_parser("export", help="write a model as a .keras file plain Keras loads")
    ex.add_argument("folder")
    ex.add_argument("--model", default="best", help="'best', 'final' or a model id")
    ex.add_argument("--out", required=True, help="the .keras file to write")
    rp = sub.add_parser("report", help="write a self-contained HTML report of a folder")
    rp.add_argument("folder")
    rp.add_argument("--out", default=None, help="HTML file (default: FOLDER/report.html)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlgene", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _training_parsers(sub)
    _reading_parsers(sub)
    return parser


def _cmd_check(args) -> int:
    from .check import check_folder

    report = check_folder(args.folder)
    print(report.format())
    return 1 if report.damaged else 0


def _cmd_show(args) -> int:
    clade = Clade.open(args.folder, read_only=True)  # no lock: works beside a running writer
    if args.format:
        print(show_as(clade, args.format))
        return 0
    print(_summary(clade))
    print(format_best(clade, args.top))
    final = format_final(clade)
    if final:
        print(final)
    return 0


def _cmd_export(args) -> int:
    path = Clade.open(args.folder, read_only=True).export(args.model, args.out)
    print(f"wrote {path}")
    return 0


def _cmd_report(args) -> int:
    from .report import write_report

    path = write_report(Clade.open(args.folder, read_only=True), args.out)
    print(f"wrote {path}")
    return 0


def _cmd_train(args) -> int:
    """evolve (a new folder) or resume (a folder, possibly with changed settings)."""
    if args.command == "evolve":
        _check_out(args.out)
        cfg = _config_for(args, CladeConfig())
        kind = clade_class(cfg.kind)
        clade = kind(cfg, data=args.data, folder=args.out, data_path=args.data_path)
    else:
        clade = Clade.open(args.folder)
        if args.set or args.workers or args.scheduler or args.strategy:
            try:
                clade.reconfigure(_config_for(args, clade.config))
            except BaseException:
                clade.close()
                raise
    with clade:
        finished = _run(clade, args.generations, None, args.quiet)
        print(_summary(clade))
        print(format_best(clade, args.top))
    return 0 if finished else INTERRUPTED


_COMMANDS = {
    "check": _cmd_check,
    "show": _cmd_show,
    "export": _cmd_export,
    "report": _cmd_report,
    "evolve": _cmd_train,
    "resume": _cmd_train,
}


def _main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # before anything imports TensorFlow: its C++ log levels are read at import
    quiet_environment(getattr(args, "verbose", False))
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, KeyError, OSError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"dlgene: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(console_main())
