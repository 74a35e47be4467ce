"""What does growing a model through a clade cost over a bare ``model.fit``?

The same genotypes (spawned by GAFC1 on Reuters bag-of-words when ../shared/data is there,
else on digits) are trained side by side, model by model, in one process:

(a) ``clade.grow_models(model_ids=[id])``: MonitorGrowth, trait updates, test predict,
    misclassified / confusion, .h5 and Parquet writes to the experiment folder;
(b) a bare loop: build + ``model.fit(validation_data=...)`` + ``model.evaluate(test)``,
    with the same seed, batch size and epochs.

The order alternates (a, b then b, a) so a warming machine favours neither, and the whole
comparison repeats (``--repeats``, each time in a fresh clade with the same seed, so the same
genotypes) so that the per-model minimum and median of each side can be compared: single
timings of one model on these shared machines vary by 20-40% from allocator and page-fault
noise (a 323 MB bag-of-words copied into TF each fit). It also times
the per-batch callback path (MonitorGrowth's batch hook, the listener and the clade's
``last_batch`` trait with an observer attached) as a share of (a)'s training time.
Target: (a) within 5% of (b); callbacks < 1% of training time.

    python benchmarks/overhead.py            # 6 models, Reuters (10,000 words) or digits
    python benchmarks/overhead.py --quick    # 3 small models, 2 repeats (about a minute)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dlgene_core import GAFC1, CladeConfig
from dlgene_core.growth import MonitorGrowth
from dlgene_core.trainer import model_seed, prepare_tensorflow

DEFAULT_REUTERS = Path(__file__).resolve().parents[2] / "shared" / "data" / "reuters_flat.npz"


def _config(quick: bool, seed: int) -> CladeConfig:
    # the classic preset: the figures in README were measured with it
    return CladeConfig.from_preset(
        "classic",
        seed=seed,
        max_train_time=1e6,  # never stops on time: both sides run every epoch
        epochs=(1, 2) if quick else (3, 6),  # full: models of 5-15 s, like a Reuters search
        nb_layers=(1, 2),
        nb_units=(8, 64) if quick else (16, 256),
        batch_size=(128, 512) if quick else (32, 256),
        optimizers=["adam", "rmsprop", "nadam"],
        lr_bins=[(1e-4, 1e-3), (1e-3, 1e-2)],
        max_words=2000 if quick else 10000,
    )


class MethodClock:
    """Wraps methods of a class to add up the wall time spent in them (outermost calls
    only, so Keras' fit -> evaluate is counted once) and count those calls.

    On MonitorGrowth.on_train_batch_end it times the per-batch callback path (down to the
    clade's trait change and its observers); on keras.Model's fit / predict / evaluate it
    gives each side's time *outside* Keras, the part dlgene adds, free of the fit-to-fit
    noise of this machine."""

    def __init__(self, cls: type, names: tuple[str, ...]) -> None:
        self.cls = cls
        self.originals = {name: getattr(cls, name) for name in names}
        self.seconds = 0.0
        self.calls = 0
        self._depth = 0
        for name, original in self.originals.items():
            setattr(cls, name, self._timed(original))

    def _timed(self, original):
        clock = self

        def timed(instance, *args, **kwargs):
            clock._depth += 1
            start = time.perf_counter()
            try:
                return original(instance, *args, **kwargs)
            finally:
                clock._depth -= 1
                if clock._depth == 0:
                    clock.seconds += time.perf_counter() - start
                    clock.calls += 1

        return timed

    def close(self) -> None:
        for name, original in self.originals.items():
            setattr(self.cls, name, original)


def bare_fit(clade: GAFC1, model_id: str) -> tuple[float, float]:
    """Build + fit(validation_data) + evaluate(test), as a user would without dlgene."""
    import keras

    dataset, cfg = clade.dataset, clade.config
    genotype = clade.genotype(model_id)
    start = time.perf_counter()
    keras.backend.clear_session(free_memory=False)  # as grow_one does: no gc.collect()
    keras.utils.set_random_seed(model_seed(cfg.seed, model_id))
    model = clade.family.build(genotype, dataset, cfg)
    model.fit(
        dataset.x_train,
        dataset.y_train,
        batch_size=int(genotype["batch_size"]),
        epochs=int(genotype["epochs"]),
        validation_data=(dataset.x_val, dataset.y_val),
        verbose=0,
        shuffle=True,
    )
    _, accuracy = model.evaluate(
        dataset.x_test, dataset.y_test, batch_size=max(256, int(genotype["batch_size"])), verbose=0
    )
    return time.perf_counter() - start, float(accuracy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 small models")
    parser.add_argument("--models", type=int, default=None, help="models to compare")
    parser.add_argument("--data-path", default=str(DEFAULT_REUTERS), help="reuters_flat.npz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=None, help="fresh clades (default 3)")
    args = parser.parse_args()
    n = args.models or (3 if args.quick else 6)
    repeats = args.repeats or (2 if args.quick else 3)
    if n < 1:
        parser.error(f"--models={n}: allowed an integer >= 1")
    if repeats < 1:
        parser.error(f"--repeats={repeats}: allowed an integer >= 1")
    cfg = _config(args.quick, args.seed)
    reuters = Path(args.data_path)
    data = "reuters" if reuters.exists() else "digits"
    root = Path(tempfile.mkdtemp(prefix="dlgene-overhead-"))

    def fresh_clade(repeat: int) -> GAFC1:
        clade = GAFC1(
            cfg,
            data=data,
            folder=root / f"run-{repeat}",
            data_path=str(reuters) if data == "reuters" else "",
        )
        clade.load_data()  # cached per process: every repeat trains on the same arrays
        clade.spawn(n)
        return clade

    prepare_tensorflow(cfg.deterministic)
    first = fresh_clade(0)
    ds = first.dataset
    print(
        f"data: {ds.name}, input {ds.input_shape}, {len(ds.y_train)} train, "
        f"{len(ds.y_val)} val, {len(ds.y_test)} test; {n} models x {repeats} repeats; "
        f"folders under {root}"
    )
    model_ids = list(first.genotypes["model_id"])

    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes: expected here
    # warm-up: the first fit in a process pays one-off costs; count it for neither side
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(args.seed)
    warm = first.family.build(first.genotype(model_ids[0]), ds, cfg)
    warm.fit(ds.x_train[:256], ds.y_train[:256], batch_size=128, epochs=1, verbose=0)

    clock = MethodClock(MonitorGrowth, ("on_train_batch_end",))
    keras_clock = MethodClock(keras.Model, ("fit", "predict", "evaluate"))
    seen: list[int] = []
    times: dict[str, dict[str, list[float]]] = {
        m: {"a": [], "b": [], "cb": [], "train": [], "batches": [], "out_a": [], "out_b": []}
        for m in model_ids
    }
    phenotypes: dict[str, object] = {}
    bare_accuracy: dict[str, float] = {}
    try:
        for repeat in range(repeats):
            clade = first if repeat == 0 else fresh_clade(repeat)
            if list(clade.genotypes["model_id"]) != model_ids or not clade.genotypes.equals(
                first.genotypes
            ):
                raise RuntimeError("same seed gave different genotypes: benchmark invalid")
            clade.observe(lambda change: seen.append(1), names=["last_batch"])  # a panel
            for i, model_id in enumerate(model_ids):
                order = ("a", "b") if (i + repeat) % 2 == 0 else ("b", "a")
                for side in order:
                    if side == "a":
                        before = clock.seconds
                        start = time.perf_counter()
                        inside = keras_clock.seconds
                        clade.grow_models(model_ids=[model_id])
                        times[model_id]["a"].append(time.perf_counter() - start)
                        inside = keras_clock.seconds - inside
                        times[model_id]["out_a"].append(times[model_id]["a"][-1] - inside)
                        times[model_id]["cb"].append(clock.seconds - before)
                    else:
                        inside = keras_clock.seconds
                        seconds, bare_accuracy[model_id] = bare_fit(clade, model_id)
                        times[model_id]["b"].append(seconds)
                        times[model_id]["out_b"].append(seconds - (keras_clock.seconds - inside))
                phenotypes[model_id] = clade.phenotypes.set_index("model_id").loc[model_id]
                times[model_id]["train"].append(float(phenotypes[model_id]["train_time"]))
                times[model_id]["batches"].append(float(phenotypes[model_id]["batches_run"]))
    finally:
        clock.close()
        keras_clock.close()

    def stat(values: list[float], how: str) -> float:
        return float(min(values) if how == "min" else statistics.median(values))

    for model_id in model_ids:
        ph, t = phenotypes[model_id], times[model_id]
        a, b = stat(t["a"], "min"), stat(t["b"], "min")
        singles = ", ".join(f"{x / y:.2f}" for x, y in zip(t["a"], t["b"], strict=True))
        print(
            f"{model_id}: {int(ph['n_params']):>9,d} params, {int(ph['batches_run']):>5d} "
            f"batches | grow_models min {a:6.2f} s  bare fit min {b:6.2f} s  ratio {a / b:.3f} "
            f"(single runs {singles})"
            f" | test acc {ph['test_accuracy']:.4f} vs {bare_accuracy[model_id]:.4f}"
        )
    for how in ("min", "median"):
        total_a = sum(stat(times[m]["a"], how) for m in model_ids)
        total_b = sum(stat(times[m]["b"], how) for m in model_ids)
        print(
            f"total of per-model {how}s: grow_models {total_a:.2f} s, bare fit {total_b:.2f} s, "
            f"ratio (a)/(b) = {total_a / total_b:.3f} (target <= 1.05); cost per model "
            f"{(total_a - total_b) / n:+.3f} s"
        )
    out_a = statistics.median(x for m in model_ids for x in times[m]["out_a"])
    out_b = statistics.median(x for m in model_ids for x in times[m]["out_b"])
    typical = statistics.median(x for m in model_ids for x in times[m]["b"])
    print(
        f"outside Keras' fit/predict/evaluate, median per model: grow_models {out_a:.3f} s, "
        f"bare {out_b:.3f} s: dlgene adds {out_a - out_b:+.3f} s a model "
        f"({100 * (out_a - out_b) / typical:+.1f}% of the median bare model, {typical:.2f} s)"
    )
    runs = n * repeats
    train = sum(sum(times[m]["train"]) for m in model_ids)
    batches = int(sum(sum(times[m]["batches"]) for m in model_ids))
    print(
        f"per-batch callbacks: {clock.seconds * 1000:.1f} ms over {clock.calls} batches "
        f"({1e6 * clock.seconds / max(1, clock.calls):.1f} us each) = "
        f"{100 * clock.seconds / train:.3f}% of {train:.1f} s training in {runs} runs "
        f"(target < 1%); observer saw {len(seen)} last_batch changes for {batches} batches"
    )


if __name__ == "__main__":
    main()
