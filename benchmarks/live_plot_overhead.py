"""Kernel-side cost of a live dashboard: the same grow_models with and without one attached.

Each repeat grows the same genotypes (same config and seed) in a fresh folder, once bare and
once with a CladeDashboard (GrowthPlot, table, parent picker, views) attached; the order
alternates so drift on a shared machine hits both sides. Without a front-end the widgets
still serialise every update, so this measures what the kernel pays. Target: <= 3%.

Two figures: the CPU the panels' updates took (thread time of every throttle's flushes, as
a share of the grow; the dashboard's ``cpu_budget`` bounds it) and the wall ratio (median of
the pairs' ratios). On a shared 2-core VM one bare grow varies by 15-30% from run to run,
so the wall ratio cannot resolve 3% in a few repeats; the CPU share is the direct measure.

    python benchmarks/live_plot_overhead.py --quick     # ~1 minute on 2 cores
    python benchmarks/live_plot_overhead.py --repeats 8 --population 8
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# 3: TensorFlow's C++ log repeats a harmless tf.data "NodeDef mentions attribute" line
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from dlgene_core import GAFC1, CladeConfig


def make_config(population: int, epochs: int, batch: tuple[int, int]) -> CladeConfig:
    return CladeConfig.from_preset("classic", population_size=population, seed=7).updated(
        epochs=(epochs, epochs), nb_units=(16, 64), nb_layers=(1, 2), batch_size=batch
    )


def grow_once(
    config: CladeConfig, folder: Path, with_dashboard: bool, cpu_budget: float | None = None
) -> tuple[float, int, int, float, float]:
    """Seconds for grow_models, batches seen, live-plot flushes, the CPU seconds the
    panels spent updating (both 0 when bare) and the whole process's CPU seconds (every
    thread: training, panels, TensorFlow's pools), to see what the flushes do not count."""
    clade = GAFC1(config, data="digits", folder=folder)
    clade.load_data()
    clade.spawn()
    dashboard = None
    if with_dashboard:
        from dlgene_widgets import CladeDashboard

        budget = {} if cpu_budget is None else {"cpu_budget": cpu_budget}
        dashboard = CladeDashboard(clade, **budget)
    started, cpu_started = time.perf_counter(), time.process_time()
    clade.grow_models()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    batches = int(clade.phenotypes["batches_run"].sum())
    flushes, busy = 0, 0.0
    if dashboard is not None:
        flushes = dashboard.growth.flushes
        busy = sum(t.busy_seconds for t in dashboard.throttles().values())
        dashboard.close()
    return elapsed, batches, flushes, busy, cpu


def event_cost(folder: Path, n: int = 20_000) -> tuple[float, float]:
    """Microseconds per batch event on the training thread, without and with a dashboard
    (the clade's own event handling plus the listeners), from synthetic events."""
    from dlgene_widgets import CladeDashboard

    clade = GAFC1(make_config(3, 1, (16, 32)), data="digits", folder=folder)
    event = {
        "event": "batch",
        "model_id": "g0-000",
        "epoch": 0,
        "batch": 0,
        "loss": 1.0,
        "accuracy": 0.5,
        "time": 0.0,
    }

    def per_event() -> float:
        started = time.perf_counter()
        for i in range(n):
            clade._on_event({**event, "batch": i})
        return (time.perf_counter() - started) / n * 1e6

    clade._on_event({"event": "start", "model_id": "g0-000"})
    bare = min(per_event() for _ in range(3))
    dashboard = CladeDashboard(clade)
    with_dashboard = min(per_event() for _ in range(3))
    dashboard.close()
    return bare, with_dashboard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats of 3 small models")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--population", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--cpu-budget",
        type=float,
        default=None,
        help="CladeDashboard(cpu_budget=...); default: its own",
    )
    args = parser.parse_args(argv)
    repeats, population, epochs = args.repeats, args.population, args.epochs
    if args.quick:
        repeats, population, epochs = 4, 3, 2
    # Small batches mean many batch events per second: the worst case for a live plot.
    config = make_config(population, epochs, (16, 32))
    root = Path(tempfile.mkdtemp(prefix="dlgene-bench-"))
    print(f"warm-up (TensorFlow import and first traces) in {root}", flush=True)
    grow_once(config, root / "warmup", with_dashboard=True)
    times: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    shares: list[float] = []
    for repeat in range(repeats):
        order = (False, True) if repeat % 2 == 0 else (True, False)
        for with_dashboard in order:
            folder = root / f"r{repeat}-{'dash' if with_dashboard else 'bare'}"
            elapsed, batches, flushes, busy, cpu = grow_once(
                config, folder, with_dashboard, args.cpu_budget
            )
            times[with_dashboard].append(elapsed)
            cpus[with_dashboard].append(cpu)
            if with_dashboard:
                shares.append(busy / elapsed)
            label = "dashboard" if with_dashboard else "bare     "
            print(
                f"repeat {repeat} {label} {elapsed:7.3f} s  {batches} batches "
                f"({batches / elapsed:,.0f}/s), process CPU {cpu:6.2f} s"
                + (
                    f"  {flushes} plot flushes, panel updates {busy * 1000:.0f} ms CPU "
                    f"({busy / elapsed * 100:.1f}% of the grow)"
                    if with_dashboard
                    else ""
                ),
                flush=True,
            )
    bare_us, dash_us = event_cost(root / "events")
    print(
        f"per batch event on the training thread: bare {bare_us:.2f} us, "
        f"with dashboard {dash_us:.2f} us (+{dash_us - bare_us:.2f} us)"
    )
    bare, dash = statistics.median(times[False]), statistics.median(times[True])
    ratio = dash / bare
    best = min(times[True]) / min(times[False])
    print(
        f"fastest bare {min(times[False]):.3f} s, fastest with dashboard "
        f"{min(times[True]):.3f} s, ratio {best:.3f} (less sensitive to a busy machine)"
    )
    pairs = [d / b for d, b in zip(times[True], times[False], strict=True)]
    print(
        f"median bare {bare:.3f} s, with dashboard {dash:.3f} s, ratio {ratio:.3f} "
        f"({(ratio - 1) * 100:+.1f}%); paired ratios median {statistics.median(pairs):.3f} "
        f"(min {min(pairs):.3f}, max {max(pairs):.3f})"
    )
    print(
        f"panel updates: median {statistics.median(shares) * 100:.1f}% of the grow's time "
        f"in CPU (min {min(shares) * 100:.1f}%, max {max(shares) * 100:.1f}%; target <= 3%)"
    )
    cpu_bare, cpu_dash = statistics.median(cpus[False]), statistics.median(cpus[True])
    print(
        f"process CPU (all threads): median bare {cpu_bare:.2f} s, with dashboard "
        f"{cpu_dash:.2f} s ({(cpu_dash / cpu_bare - 1) * 100:+.1f}%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
