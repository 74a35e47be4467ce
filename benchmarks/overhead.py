"""What does growing a model through a clade cost over a bare ``model.fit``?

The same genotypes (spawned by GAFC1 on Reuters bag-of-words when ../shared/data is there,
else on digits) are trained side by side, model by model, in one process:

(a) ``clade.grow_models(model_ids=[id])``: MonitorGrowth, trait updates, test predict,
    misclassified / confusion, .h5 and Parquet writes to the experiment folder;
(b) a bare loop: build + ``model.fit(validation_data=...)`` + ``model.evaluate(test)``,
    with the same seed, batch size and epochs.

The order alternates (a, b then b, a) so a warming machine favours neither. It also times
the per-batch callback path (MonitorGrowth's batch hook, the listener and the clade's
``last_batch`` trait with an observer attached) as a share of (a)'s training time.
Target: (a) within 5% of (b); callbacks < 1% of training time.

    python benchmarks/overhead.py            # 6 models, Reuters (10,000 words) or digits
    python benchmarks/overhead.py --quick    # 3 small models (about a minute)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dlgene_core import GAFC1, CladeConfig
from dlgene_core.trainer import model_seed, prepare_tensorflow

DEFAULT_REUTERS = Path(__file__).resolve().parents[2] / "shared" / "data" / "reuters.npz"


def _config(quick: bool, seed: int) -> CladeConfig:
    return CladeConfig(
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


class CallbackClock:
    """Wraps MonitorGrowth.on_train_batch_end to add up the time spent in it (which
    includes the listener chain down to the clade's trait change and its observers)."""

    def __init__(self) -> None:
        from dlgene_core.growth import MonitorGrowth

        self.cls = MonitorGrowth
        self.original = MonitorGrowth.on_train_batch_end
        self.seconds = 0.0
        self.calls = 0
        clock = self

        def timed(monitor, batch, logs=None):
            start = time.perf_counter()
            clock.original(monitor, batch, logs)
            clock.seconds += time.perf_counter() - start
            clock.calls += 1

        MonitorGrowth.on_train_batch_end = timed

    def close(self) -> None:
        self.cls.on_train_batch_end = self.original


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
    parser.add_argument("--data-path", default=str(DEFAULT_REUTERS), help="reuters.npz")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = args.models or (3 if args.quick else 6)
    if n < 1:
        parser.error(f"--models={n}: allowed an integer >= 1")
    cfg = _config(args.quick, args.seed)
    reuters = Path(args.data_path)
    data = "reuters" if reuters.exists() else "digits"
    folder = Path(tempfile.mkdtemp(prefix="dlgene-overhead-")) / "run"
    clade = GAFC1(
        cfg, data=data, folder=folder, data_path=str(reuters) if data == "reuters" else ""
    )
    prepare_tensorflow(cfg.deterministic)
    ds = clade.load_data()
    print(f"data: {ds.name}, input {ds.input_shape}, {len(ds.y_train)} train, "
          f"{len(ds.y_val)} val, {len(ds.y_test)} test; {n} models; folder {folder}")
    clade.spawn(n)
    seen: list[int] = []
    clade.observe(lambda change: seen.append(1), names=["last_batch"])  # a panel's observer

    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes: expected here
    # warm-up: the first fit in a process pays one-off costs; count it for neither side
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(args.seed)
    warm = clade.family.build(clade.genotype(clade.genotypes["model_id"][0]), ds, cfg)
    warm.fit(ds.x_train[:256], ds.y_train[:256], batch_size=128, epochs=1, verbose=0)

    clock = CallbackClock()
    rows = []
    try:
        for i, model_id in enumerate(clade.genotypes["model_id"]):
            order = ("a", "b") if i % 2 == 0 else ("b", "a")
            times: dict[str, float] = {}
            for side in order:
                if side == "a":
                    before = clock.seconds
                    start = time.perf_counter()
                    clade.grow_models(model_ids=[model_id])
                    times["a"] = time.perf_counter() - start
                    times["cb"] = clock.seconds - before
                else:
                    times["b"], times["b_acc"] = bare_fit(clade, model_id)
            ph = clade.phenotypes.set_index("model_id").loc[model_id]
            rows.append((model_id, ph, times))
            print(
                f"{model_id}: {int(ph['n_params']):>9,d} params, {int(ph['batches_run']):>5d} "
                f"batches | grow_models {times['a']:7.2f} s  bare fit {times['b']:7.2f} s  "
                f"ratio {times['a'] / times['b']:.3f} | test acc {ph['test_accuracy']:.4f} "
                f"vs {times['b_acc']:.4f} | callbacks {times['cb'] * 1000:7.1f} ms "
                f"({100 * times['cb'] / ph['train_time']:.3f}% of its training)"
            )
    finally:
        clock.close()
    total_a = sum(t["a"] for _, _, t in rows)
    total_b = sum(t["b"] for _, _, t in rows)
    train = float(sum(ph["train_time"] for _, ph, _ in rows))
    batches = int(sum(ph["batches_run"] for _, ph, _ in rows))
    print(f"total: grow_models {total_a:.2f} s, bare fit {total_b:.2f} s, "
          f"ratio (a)/(b) = {total_a / total_b:.3f} (target <= 1.05); fixed cost per model "
          f"{(total_a - total_b) / len(rows):+.3f} s (folder writes, .h5 bytes, predict)")
    print(f"per-batch callbacks: {clock.seconds * 1000:.1f} ms over {clock.calls} batches "
          f"({1e6 * clock.seconds / max(1, clock.calls):.1f} us each) = "
          f"{100 * clock.seconds / train:.3f}% of {train:.1f} s training (target < 1%); "
          f"observer saw {len(seen)} last_batch changes for {batches} batches")


if __name__ == "__main__":
    main()
