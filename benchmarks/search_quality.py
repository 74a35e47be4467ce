"""Search quality: dlgene's strategies against random search, Optuna and KerasTuner.

Every tool gets the same data splits (the dlgene Dataset of ``load_dataset``: train / val /
test), the same search space (the dlgene config's genes, asked of Optuna and KerasTuner
through ``searchbench.space``; models built by dlgene's ``family.build``), the same training
procedure and the same budget in models. Each tool picks its model on validation accuracy;
the test accuracy of that pick is reported, never the best test score. All tools run one
after another in this process, with one TensorFlow thread setting, so wall times compare.

    pip install -e ".[bench]"                        # optuna and keras-tuner
    python benchmarks/search_quality.py --quick      # about 12-20 minutes on 2 cores
    python benchmarks/search_quality.py --out results.json          # the full run (~10 h)
    python benchmarks/search_quality.py --datasets wine --tools dlgene-random optuna-tpe \\
        --seeds 2 --models 8

See docs/benchmarks.md for how to read the table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

# 3: TensorFlow's C++ log also repeats a harmless tf.data "NodeDef mentions attribute" error
# line for every fit; Python exceptions still surface
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # searchbench, beside this file

from searchbench.dlgene_runs import (
    DLGENE_TOOLS,
    UNPRUNED,
    default_tool,
    has_strategies,
    run_dlgene,
)
from searchbench.peers import PEER_TOOLS, run_peer
from searchbench.report import RunResult, markdown, summarize, write_json
from searchbench.training import fit_and_score

from dlgene_core.clade import Clade
from dlgene_core.config import CladeConfig
from dlgene_core.trainer import prepare_tensorflow

REPO = Path(__file__).resolve().parents[1]
TOOLS = (*DLGENE_TOOLS, *PEER_TOOLS)


@dataclass(frozen=True)
class Benchmark:
    """One data set: its clade kind, where its file is, the budget and the size genes.

    Only sizes (layers, units, filters, batch, epochs) are set here; activations,
    optimizers, learning rates, normalisation, pruner and early stopping come from the
    preset, so ``--preset`` compares presets and the table measures the one that ships."""

    name: str
    kind: str
    population: int
    generations: int
    seeds: int
    space: dict[str, Any]
    data_file: str = ""
    quick_space: dict[str, Any] = field(default_factory=dict)


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            "digits",
            "GAFC1",
            10,
            4,
            5,
            {
                "nb_layers": (1, 3),
                "nb_units": (16, 512),
                "batch_size": (16, 128),
                "epochs": (5, 30),
            },
            quick_space={"epochs": (3, 12)},
        ),
        Benchmark(
            "wine",
            "GAFC1",
            8,
            5,
            5,
            {"nb_layers": (1, 3), "nb_units": (8, 128), "batch_size": (8, 64), "epochs": (5, 30)},
            quick_space={"epochs": (3, 15)},
        ),
        Benchmark(
            "mnist1d",
            "GACNN1",
            10,
            4,
            5,
            {
                "conv_blocks": (2, 4),
                "conv_filters": (16, 64),
                "kernel_size": (3, 9),
                "strides": (1, 2),
                "head_layers": (0, 1),
                "nb_units": (32, 128),
                "batch_size": (32, 128),
                "epochs": (5, 25),
            },
            data_file="mnist1d.npz",
            quick_space={"epochs": (3, 10)},
        ),
        Benchmark(
            "reuters",
            "GAFC1",
            20,
            3,
            3,
            {
                "nb_layers": (1, 2),
                "nb_units": (64, 512),
                "batch_size": (64, 512),
                "epochs": (2, 10),
            },
            data_file="reuters_flat.npz",
            quick_space={"epochs": (2, 4)},
        ),
    )
}
# --quick: what runs in about 15 minutes on 2 shared cores (see docs/benchmarks.md)
QUICK = {"datasets": ["wine", "digits"], "seeds": 2, "population": 4, "generations": 2}
SAFETY_TIME_CAP_S = 120.0  # max_train_time for every tool: a runaway model cannot eat the run


def base_config(bench: Benchmark, seed: int, preset: str | None, quick: bool) -> CladeConfig:
    values = {
        **bench.space,
        **(bench.quick_space if quick else {}),
        "kind": bench.kind,
        "seed": seed,
        "max_train_time": SAFETY_TIME_CAP_S,
        "executor": "inprocess",
    }
    if preset is None:
        return CladeConfig().updated(**values)
    if not hasattr(CladeConfig, "from_preset"):
        raise SystemExit(f"--preset {preset}: this dlgene has no presets (no search branch)")
    return CladeConfig.from_preset(preset, **values)


def budget(bench: Benchmark, args: argparse.Namespace) -> tuple[int, int]:
    """(population, generations): --models N splits N into the data set's generations."""
    population = QUICK["population"] if args.quick else bench.population
    generations = QUICK["generations"] if args.quick else bench.generations
    if args.models:  # the most generations (up to the data set's) that divide N evenly,
        # keeping populations of >= 4 once N allows it (a GA needs a few parents)
        smallest = 4 if args.models >= 8 else 2
        fits = [g for g in range(generations, 0, -1) if args.models % g == 0]
        generations = next((g for g in fits if args.models // g >= smallest), 1)
        population = args.models // generations
    return population, generations


def load_data(bench: Benchmark, cfg: CladeConfig, data_dir: Path, workdir: Path):
    """The data spec and Dataset every tool of this seed uses (a probe clade makes the spec
    exactly as a dlgene run would, with the config's split settings)."""
    path = data_dir / bench.data_file if bench.data_file else None
    data_path = str(path) if path is not None and path.exists() else ""
    folder = workdir / f"{bench.name}-seed{cfg.seed}-data"
    with Clade(cfg, data=bench.name, folder=folder, data_path=data_path) as probe:
        return probe.data_spec, probe.load_data()


def warm_up(cfg: CladeConfig, dataset: Any) -> float:
    """Train one throwaway model, untimed, so that the process's one-off costs (TensorFlow
    start-up, first tracing, the peers' imports) do not land on whichever tool runs first."""
    import keras
    import keras_tuner  # noqa: F401  (imported here: not inside a timed run)
    import numpy as np
    import optuna  # noqa: F401

    from dlgene_core.families import get_family
    from dlgene_core.operators import random_genotype

    started = time.perf_counter()
    family = get_family(cfg.kind)
    genotype = random_genotype(family, cfg, np.random.default_rng([int(cfg.seed), 99]))
    genotype, _ = family.repair(genotype, dataset)
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(int(cfg.seed))  # op determinism wants a seed for every fit
    model = family.build(genotype, dataset, cfg)
    fit_and_score(model, genotype, dataset, cfg, epochs=1)
    return time.perf_counter() - started


def tool_order(tools: list[str], seed_index: int) -> list[str]:
    """The tools in a rotated order per seed: a machine that slows down (or warms up) during
    a run does not always favour the same tool."""
    k = seed_index % len(tools)
    return tools[k:] + tools[:k]


def run_one(
    tool: str,
    bench: Benchmark,
    cfg: CladeConfig,
    spec: Any,
    dataset: Any,
    population: int,
    generations: int,
    workdir: Path,
) -> RunResult | str:
    import keras

    keras.backend.clear_session(free_memory=False)
    seed = int(cfg.seed)
    if tool in DLGENE_TOOLS:
        folder = workdir / f"{bench.name}-seed{seed}-{tool}"
        return run_dlgene(tool, cfg, spec, population, generations, folder)
    return run_peer(tool, cfg, dataset, population * generations, seed, workdir / "kt")


def occupied_folders(args: argparse.Namespace, workdir: Path) -> list[str]:
    """The run folders this invocation would make that ``workdir`` already holds (a second
    run into the same folder would stop at its first one, a clade that exists)."""
    taken = []
    for name in args.datasets:
        bench = BENCHMARKS[name]
        n_seeds = args.seeds or (QUICK["seeds"] if args.quick else bench.seeds)
        for seed in range(args.first_seed, args.first_seed + n_seeds):
            tools = [t for t in args.tools if t in DLGENE_TOOLS]
            for suffix in ("data", *tools):
                if (workdir / f"{name}-seed{seed}-{suffix}").exists():
                    taken.append(f"{name}-seed{seed}-{suffix}")
    return taken


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{', '.join(QUICK['datasets'])}; {QUICK['seeds']} seeds; "
        f"{QUICK['population']} x {QUICK['generations']} models; short epochs",
    )
    parser.add_argument("--datasets", nargs="+", choices=list(BENCHMARKS), default=None)
    parser.add_argument(
        "--tools",
        nargs="+",
        choices=list(TOOLS),
        default=[t for t in TOOLS if not t.endswith(UNPRUNED)],
        help="default: every tool but the -unpruned twins (dlgene with pruner=none, which "
        "measure what pruning saves)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="seeds per data set (default: 5, Reuters 3; --quick 2)",
    )
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--models",
        type=int,
        default=None,
        help="models per run (population x generations; Hyperband: fits)",
    )
    parser.add_argument("--preset", default=None, help="dlgene preset (default: CladeConfig())")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="TensorFlow intra/inter-op threads for every tool (0: TF default)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with mnist1d.npz and reuters_flat.npz "
        "(default: $DLGENE_DATA_DIR, else ../shared/data)",
    )
    parser.add_argument("--out", default=None, help="results JSON (written after every run)")
    parser.add_argument("--workdir", default=None, help="run folders (default: a temp folder)")
    args = parser.parse_args(argv)
    if args.models is not None and args.models < 2:
        parser.error(f"--models {args.models}: allowed an integer >= 2")
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds {args.seeds}: allowed an integer >= 1")
    if args.threads < 0:
        parser.error(f"--threads {args.threads}: allowed 0 (TF default) or more")
    if args.datasets is None:
        args.datasets = QUICK["datasets"] if args.quick else list(BENCHMARKS)
    return args


def data_folder(args: argparse.Namespace) -> Path:
    chosen = args.data_dir or os.environ.get("DLGENE_DATA_DIR") or REPO.parent / "shared" / "data"
    return Path(chosen).resolve()


def environment(args: argparse.Namespace) -> dict[str, Any]:
    import tensorflow as tf

    versions = {}
    for package in ("tensorflow", "keras", "optuna", "keras-tuner", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "tf_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "dlgene_commit": commit,
        "dlgene_has_strategies": has_strategies(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes: one per model
    prepare_tensorflow(True, threads=args.threads or None)  # one setting for every tool
    data_dir = data_folder(args)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="search-quality-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    taken = occupied_folders(args, workdir)
    if taken:
        raise SystemExit(
            f"--workdir {workdir} already holds {', '.join(taken[:4])}"
            + (f" and {len(taken) - 4} more" if len(taken) > 4 else "")
            + "; allowed: a folder without these runs (pick another, or remove them)"
        )
    marked = default_tool()
    document: dict[str, Any] = {
        "benchmark": "search_quality",
        "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else list(argv),
        "quick": args.quick,
        "default_tool": marked,
        "environment": environment(args),
        "notes": [],
        "preset": args.preset or "CladeConfig() (the default)",
        "budgets": {},
        "configs": {},
        "runs": [],
        "errors": [],
    }
    print(f"search quality: tools {', '.join(args.tools)}; data {data_dir}; runs in {workdir}")
    if args.quick:
        print(
            f"quick mode: data sets {', '.join(args.datasets)}; fewer seeds and models and "
            "shorter epochs than the full run (see each data set's line)"
        )
    if not has_strategies():
        note = "this dlgene has no search strategies (search branch not merged): see notes"
        print(note)
        document["notes"].append(note)
    runs: list[RunResult] = []
    started = time.perf_counter()
    for name in args.datasets:
        bench = BENCHMARKS[name]
        population, generations = budget(bench, args)
        n_seeds = args.seeds or (QUICK["seeds"] if args.quick else bench.seeds)
        document["budgets"][name] = {
            "population": population,
            "generations": generations,
            "models": population * generations,
            "seeds": n_seeds,
        }
        print(
            f"\n== {name} ({bench.kind}): {population} x {generations} = "
            f"{population * generations} models a run, {n_seeds} seeds",
            flush=True,
        )
        for index, seed in enumerate(range(args.first_seed, args.first_seed + n_seeds)):
            cfg = base_config(bench, seed, args.preset, args.quick)
            document["configs"].setdefault(name, cfg.to_dict())
            spec, dataset = load_data(bench, cfg, data_dir, workdir)
            print(
                f"  seed {seed}: {len(dataset.y_train)} train / {len(dataset.y_val)} val / "
                f"{len(dataset.y_test)} test",
                flush=True,
            )
            if index == 0:
                print(f"  warm-up (untimed): one model in {warm_up(cfg, dataset):.1f} s")
            for tool in tool_order(args.tools, index):
                try:
                    result = run_one(
                        tool, bench, cfg, spec, dataset, population, generations, workdir
                    )
                except Exception as exc:  # one broken tool must not lose the others' runs
                    traceback.print_exc()
                    document["errors"].append(
                        {"dataset": name, "seed": seed, "tool": tool, "error": repr(exc)}
                    )
                    continue
                if isinstance(result, str):
                    print(f"    {tool:<14} skipped: {result}", flush=True)
                    if result not in document["notes"]:
                        document["notes"].append(result)
                    continue
                if result.note and result.note not in document["notes"]:
                    document["notes"].append(result.note)
                runs.append(result)
                print(_run_line(result), flush=True)
                document["runs"] = [r.to_dict() for r in runs]
                if args.out:
                    write_json(args.out, document)
    document["summary"] = summarize(runs)
    document["total_wall_s"] = time.perf_counter() - started
    document["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    table = markdown(document["summary"], marked)
    print("\n" + table)
    print(f"* the default dlgene strategy ({marked}); total {document['total_wall_s']:.0f} s")
    for note in document["notes"]:
        print(f"note: {note}")
    if args.out:
        write_json(args.out, document)
        print(f"results: {args.out}")
    return document


def _run_line(r: RunResult) -> str:
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))
    return (
        f"    {r.tool:<14} {r.models:>3} models ({statuses}), {r.epochs:>4} epochs, "
        f"{r.wall_s:6.1f} s: val {r.val_accuracy:.4f} -> test {r.test_accuracy:.4f} "
        f"({r.selected})"
    )


if __name__ == "__main__":
    main()
