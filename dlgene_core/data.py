"""Data sets: train / validation / test splits in the form a clade kind needs.

A data set is named by a :class:`DataSpec` (JSON-serialisable), so worker processes and
re-opened folders load exactly the same arrays. Forms:

- ``flat``: (N, features) float32 (GAFC1).
- ``grid``: (N, steps, channels) or (N, H, W, C) float32 (GACNN1, numeric GARNN1).
- ``tokens``: (N, sequence_length) int32 word indices, 0 = padding (GARNN1 on text).

uint8 arrays (Reuters' binary bag of words, byte images) stay uint8 in the flat and grid
forms: Keras casts them to float32 at the model's input, exactly, and they take a quarter
of the memory and of the copy into TensorFlow that every ``fit`` makes (323 MB -> 81 MB
for Reuters).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

BUILTIN_DATASETS = ("reuters", "digits", "mnist1d", "wine")
FORMS = ("flat", "grid", "tokens")
# how min_validation_per_class counts: "average" (classes x minimum in all) or "rarest"
# (every class reaches the minimum; folders made before 2026-12-03 keep it)
PER_CLASS_AVERAGE, PER_CLASS_RAREST = "average", "rarest"
PER_CLASS_RULES = (PER_CLASS_AVERAGE, PER_CLASS_RAREST)
SHARED_DATA_ENV = "DLGENE_DATA_DIR"  # optional folder: reuters_flat.npz / mnist1d.npz


@dataclass(frozen=True)
class DataSpec:
    """Which data set, where from, and in which form."""

    name: str
    path: str = ""
    form: str = "flat"
    max_words: int = 10000
    sequence_length: int = 200
    validation_fraction: float = 0.1
    seed: int = 0
    # defaults are the behaviour before these existed, so old folders load the same splits
    stratify: bool = False
    min_validation_samples: int = 0
    min_validation_per_class: int = 0
    # PER_CLASS_RULES; folders made before 2026-12-03 keep "rarest", so they load the
    # splits they were grown on
    per_class_rule: str = PER_CLASS_RAREST
    # False: 0/1 features (bag of words, one-hot) are centred, not scaled, by the model's
    # Normalization layer; True: standardised like every feature (folders made before
    # 2026-12-03 keep it, so the models they grow match the ones grown before)
    scale_binary_features: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DataSpec:
        return cls(**values)


@dataclass
class Dataset:
    """Splits plus what a model builder needs to know about them."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    form: str
    class_names: list[str] = field(default_factory=list)
    vocab_size: int = 0
    # the label the user gave for each class index (identity for labels 0..K-1): models
    # predict indices, predictions and exports translate them back through this list
    classes: list[Any] = field(default_factory=list)
    # things the user should know about how the data was read (remapped labels, unscaled
    # bytes, a grown small validation split): the clade prints them once
    notes: list[str] = field(default_factory=list)
    scale_binary_features: bool = True  # DataSpec.scale_binary_features: see feature_stats
    _stats: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def feature_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature (last axis) mean and variance of the training split, computed once.

        Summed in row chunks in float64, so a uint8 bag of words is never copied whole; a
        constant feature gets variance 1 (it is centred, not blown up). A 0/1 feature gets
        variance 1 too unless ``scale_binary_features``: a word seen in 1 of 8,084 newswires
        has a standard deviation of 0.011, so standardising turns its 1 into 90, and on
        Reuters that cost 3 points of test accuracy (0.78 against 0.81, docs/search.md)."""
        if self._stats is None:
            x = self.x_train
            flat = x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x.reshape(-1, 1)
            total = np.zeros(flat.shape[1])
            squares = np.zeros(flat.shape[1])
            binary = np.ones(flat.shape[1], dtype=bool)
            rows = max(1, 2**22 // flat.shape[1])  # chunks of about 32 MB in float64
            for start in range(0, len(flat), rows):
                chunk = flat[start : start + rows].astype(np.float64)
                total += chunk.sum(axis=0)
                squares += np.square(chunk).sum(axis=0)
                binary &= ((chunk == 0) | (chunk == 1)).all(axis=0)
            mean = total / max(1, len(flat))
            variance = np.maximum(squares / max(1, len(flat)) - mean**2, 0.0)
            variance[variance < 1e-12] = 1.0
            if not self.scale_binary_features:
                variance[binary] = 1.0
            self._stats = (mean.astype(np.float32), variance.astype(np.float32))
        return self._stats

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "form": self.form,
            "input_shape": list(self.input_shape),
            "n_classes": self.n_classes,
            "train": len(self.y_train),
            "val": len(self.y_val),
            "test": len(self.y_test),
        }


# ---------------------------------------------------------------------- validation
def check_arrays(x: Any, y: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate one (x, y) pair; return numeric x and labels (int64, or str for text labels).
    ``what`` names the pair in errors."""
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim < 2:
        raise DataError(
            f"{what}: x must have a sample axis and at least one feature axis, got shape {x.shape}"
        )
    if np.issubdtype(x.dtype, np.complexfloating):
        raise DataError(
            f"{what}: x is complex ({x.dtype}); models take real features: pass the real and "
            "imaginary parts (or magnitude and phase) as separate features"
        )
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"{what}: x must be numeric, got dtype {x.dtype}")
    if y.ndim == 2 and y.shape[1] > 1:
        if not np.all((y == 0) | (y == 1)) or not np.all(y.sum(axis=1) == 1):
            raise DataError(f"{what}: a 2-D y must be one-hot (one 1 per row)")
        y = y.argmax(axis=1)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise DataError(f"{what}: y must be class labels of shape (N,), got shape {y.shape}")
    if len(x) != len(y):
        raise DataError(f"{what}: x has {len(x)} samples but y has {len(y)}")
    if len(y) == 0:
        raise DataError(f"{what}: no samples")
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise DataError(f"{what}: x holds {bad} NaN or infinite values")
    return x, _labels(y, what)


def _labels(y: np.ndarray, what: str) -> np.ndarray:
    """Whole-number labels as int64, text labels as str; anything else is a DataError."""
    if y.dtype == object and all(isinstance(v, str) for v in y):
        y = y.astype(str)
    if y.dtype.kind in "US":
        return y.astype(str)
    if y.dtype == bool:
        return y.astype(np.int64)
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise DataError(f"{what}: y must hold whole class labels, found non-integers")
    elif not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{what}: y must hold integer or string class labels, got dtype {y.dtype}")
    return y.astype(np.int64)


def label_classes(
    y_train: np.ndarray, class_names: list[str] | None, what: str = "training data"
) -> tuple[list[Any], str]:
    """The class of each index, derived from the training labels alone (sorted unique), so
    every process and every reload finds the same mapping; and a note when it is not the
    identity. Labels 0..K-1 (all present, or covered by ``class_names``) map to themselves."""
    present = np.unique(y_train)
    if len(present) < 2:
        shown = present[0].item() if len(present) else "none"
        raise DataError(
            f"{what}: the labels hold {len(present)} class ({shown!r}); a classifier "
            "needs at least 2 classes in the training split"
        )
    if present.dtype.kind != "U":
        top = int(present.max())
        n = max(top + 1, len(class_names or []))
        if int(present.min()) >= 0 and (len(present) == top + 1 or class_names):
            return list(range(n)), ""
    classes = [v.item() for v in present]
    if class_names:
        raise DataError(
            f"{what}: class_names are given for labels 0..{len(class_names) - 1}, but the "
            f"labels are {_preview(classes)}"
        )
    note = (
        f"labels {_preview(classes)} are not 0..{len(classes) - 1}: remapped to class indices "
        f"0..{len(classes) - 1} in sorted order (Dataset.classes keeps the labels; "
        "predictions translate back through it)"
    )
    return classes, note


def _preview(values: list[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:6])
    return f"[{shown}{', ...' if len(values) > 6 else ''}] ({len(values)} classes)"


def _to_indices(y: np.ndarray, classes: list[Any], what: str) -> np.ndarray:
    if classes == list(range(len(classes))) and y.dtype.kind != "U":
        _check_label_range(y, len(classes), what)
        return y.astype(np.int64)
    table = np.asarray(classes)
    if y.dtype.kind != table.dtype.kind and (y.dtype.kind == "U" or table.dtype.kind == "U"):
        raise DataError(f"{what}: labels are {y.dtype} but training labels are {table.dtype}")
    index = np.searchsorted(table, y)
    index = np.clip(index, 0, len(table) - 1)
    unknown = y[table[index] != y]
    if len(unknown):
        raise DataError(
            f"{what}: label {unknown[0].item()!r} is outside the training labels "
            f"{_preview(classes)}"
        )
    return index.astype(np.int64)


def _check_label_range(y: np.ndarray, n_classes: int, what: str) -> None:
    if y.min() < 0 or y.max() >= n_classes:
        bad = int(y.min()) if y.min() < 0 else int(y.max())
        raise DataError(f"{what}: label {bad} is outside the training labels 0..{n_classes - 1}")


def _check_after_cast(x: np.ndarray, what: str) -> None:
    """float64 beyond float32's range passes the finite check and becomes inf in the cast."""
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise DataError(
            f"{what}: {bad} values of x exceed float32's range (|x| > 3.4e38) and become "
            "infinite when cast to float32; rescale the features"
        )


# ---------------------------------------------------------------------- splitting
def _split_validation(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int, stratify: bool = False
):
    val, train = _hold_out(y, fraction, np.random.default_rng([seed, 7919]), stratify)
    if len(train) == 0:
        raise DataError(
            f"validation_fraction={fraction} leaves no training samples out of {len(y)}"
        )
    return x[train], y[train], x[val], y[val]


def _split_test(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, stratify: bool = False
):
    test, train = _hold_out(y, test_fraction, np.random.default_rng([seed, 104729]), stratify)
    return x[train], y[train], x[test], y[test]


def _hold_out(
    y: np.ndarray, fraction: float, rng: np.random.Generator, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out and kept indices: stratified, or a plain shuffle (at least one held out)."""
    if stratify:
        return _stratified_order(y, fraction, rng)
    order = rng.permutation(len(y))
    n_out = max(1, round(len(y) * fraction))
    return order[:n_out], order[n_out:]


def _stratified_order(
    y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out and kept indices with each class's share ``fraction`` (a class of two or
    more samples gives at least one to each side), both shuffled."""
    labels, counts = np.unique(y, return_counts=True)
    quotas = counts * fraction
    sizes = np.floor(quotas).astype(int)
    # largest remainders take the rest, so the total is round(N * fraction) as unstratified
    rest = max(0, round(len(y) * fraction) - int(sizes.sum()))
    sizes[np.argsort(-(quotas - sizes), kind="stable")[:rest]] += 1
    held, kept = [], []
    for label, count, size in zip(labels, counts, sizes, strict=True):
        members = rng.permutation(np.flatnonzero(y == label))
        n = min(max(1, int(size)), count - 1) if count >= 2 else 0
        held.append(members[:n])
        kept.append(members[n:])
    return rng.permutation(np.concatenate(held)), rng.permutation(np.concatenate(kept))


def validation_share(y: np.ndarray, spec: DataSpec) -> tuple[float, str]:
    """The validation share to use, and a note when the split would be small.

    The small-data rule: a validation split under ``min_validation_samples`` samples, or
    under ``min_validation_per_class`` samples per class on average (classes x that many
    in all), makes selection a coin toss, so the share grows (stratified) until both hold,
    up to half the training data; if even half is too small, the note says so and the
    share is half.

    On average, not for the rarest class: a class of a handful of samples (Reuters' rarest
    topics) would take half of every class's training data to reach the minimum, while
    it moves the accuracy that selection reads by a sample or two."""
    fraction = spec.validation_fraction
    if not (spec.min_validation_samples or spec.min_validation_per_class):
        return fraction, ""
    if spec.per_class_rule not in PER_CLASS_RULES:
        allowed = " or ".join(repr(r) for r in PER_CLASS_RULES)
        raise DataError(f"per_class_rule {spec.per_class_rule!r}: allowed {allowed}")
    counts = np.bincount(y)
    counts = counts[counts > 0]
    if spec.per_class_rule == PER_CLASS_AVERAGE:
        per_class, rule = spec.min_validation_per_class * len(counts) / max(1, len(y)), "on average"
    else:
        per_class, rule = spec.min_validation_per_class / max(1, int(counts.min())), "each"
    needed = max(fraction, spec.min_validation_samples / max(1, len(y)), per_class)
    if needed <= fraction:
        return fraction, ""
    share = min(0.5, needed)
    expected = round(len(y) * share)
    note = (
        f"small validation split: {round(len(y) * fraction)} samples at "
        f"validation_fraction={fraction:g} (rule: >= {spec.min_validation_samples} samples "
        f"and >= {spec.min_validation_per_class} per class {rule}); using {share:.2f} "
        f"({expected} samples)"
    )
    if needed > 0.5:
        note += "; still small, so selection on it is noisy: prefer more data or your own x_val"
    return share, note


def make_dataset(
    name: str,
    x_train,
    y_train,
    x_test,
    y_test,
    spec: DataSpec,
    class_names: list[str] | None = None,
    vocab_size: int = 0,
    x_val=None,
    y_val=None,
) -> Dataset:
    """Validate arrays, hold out validation data from train (or take the user's ``x_val``,
    ``y_val``), and shape them into ``spec.form``."""
    x_train, y_train = check_arrays(x_train, y_train, "training data")
    x_test, y_test = check_arrays(x_test, y_test, "test data")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(
            f"training x has sample shape {x_train.shape[1:]} but test x has {x_test.shape[1:]}"
        )
    # classes come from the training labels (and names): a test label beyond them is an error
    classes, note = label_classes(y_train, class_names)
    notes = [note] if note else []
    y_train = _to_indices(y_train, classes, "training data")
    y_test = _to_indices(y_test, classes, "test data")
    n_classes = len(classes)
    x_tr, y_tr, x_val, y_val = _validation_split(
        x_train, y_train, x_val, y_val, classes, spec, notes
    )
    if len(np.unique(y_tr)) < 2:
        raise DataError(
            "training data: after holding out the validation split the training split holds "
            "1 class; give more samples of each class"
        )
    splits = [shape_for_form(a, spec.form, name) for a in (x_tr, x_val, x_test)]
    for split, what in zip(splits, ("training data", "validation data", "test data"), strict=True):
        _check_after_cast(split, what)
    notes += _scale_note(x_train, spec.form)
    names = list(class_names or [str(c) for c in classes])
    return Dataset(
        name, splits[0], y_tr, splits[1], y_val, splits[2], y_test, n_classes, spec.form,
        names, vocab_size, classes, notes, spec.scale_binary_features,
    )  # fmt: skip


def _validation_split(x_train, y_train, x_val, y_val, classes, spec: DataSpec, notes: list):
    """The user's validation arrays checked against train, or a held-out share of train
    (its size rule may add a note)."""
    if x_val is None and y_val is None:
        fraction, note = validation_share(y_train, spec)
        notes += [note] if note else []
        return _split_validation(x_train, y_train, fraction, spec.seed, spec.stratify)
    x_val, y_val = check_arrays(x_val, y_val, "validation data")
    y_val = _to_indices(y_val, classes, "validation data")
    if x_val.shape[1:] != x_train.shape[1:]:
        raise DataError(
            f"training x has sample shape {x_train.shape[1:]} but validation x has "
            f"{x_val.shape[1:]}"
        )
    return x_train, y_train, x_val, y_val


def _scale_note(x_train: np.ndarray, form: str) -> list[str]:
    if x_train.dtype == np.uint8 and form != "tokens" and int(x_train.max()) > 1:
        return [
            f"x is uint8 with values {int(x_train.min())}..{int(x_train.max())}: models see "
            "them unscaled; divide by the maximum (255 for images) to scale them to 0..1"
        ]
    return []


def shape_for_form(x: np.ndarray, form: str, name: str) -> np.ndarray:
    if form not in FORMS:
        raise DataError(f"form {form!r} is not one of {FORMS}")
    if form == "tokens":
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
            raise DataError(
                f"{name}: token form needs integer (N, steps) arrays, got {x.dtype} {x.shape}"
            )
        return x.astype(np.int32)
    if x.dtype != np.uint8:  # uint8 stays: see the module docstring
        with np.errstate(over="ignore"):  # overflow is checked (and named) after the cast
            x = x.astype(np.float32)
    if form == "flat":
        return x.reshape(len(x), -1)
    # grid: sequences (N, steps) gain a channel axis; images keep (N, H, W, C).
    return x[..., None] if x.ndim == 2 else x


# ---------------------------------------------------------------------- built-in sets
def _shared_file(filename: str) -> Path | None:
    folder = os.environ.get(SHARED_DATA_ENV)
    if folder and (Path(folder) / filename).exists():
        return Path(folder) / filename
    return None


def load_npz_arrays(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """Every array of an .npz file, read without pickle: a run folder (and the data path it
    names) is untrusted input, and unpickling an object array runs code from the file."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what}: no file at path {str(path)!r}")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(p, allow_pickle=False) as f:
            for key in f.files:
                try:
                    arrays[key] = f[key]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    raise DataError(
                        f"{what}: {str(p)!r} key {key!r} is an object array (stored with "
                        "pickle); dlgene does not unpickle data files, since that runs code "
                        "from the file. Store it as plain numeric arrays (for Reuters: "
                        "reuters_flat.npz with keys 'tokens', 'offsets', 'y')"
                    ) from None
    except DataError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{what}: {str(p)!r} is not a readable .npz file ({exc})") from None
    return arrays


def _load_reuters_sequences(path: str, max_words: int):
    """Reuters in Keras' layout: split seed 113, 20% test, start 1, oov 2, index_from 3."""
    if path:
        f = load_npz_arrays(path, "reuters")
        if {"tokens", "offsets", "y"} <= set(f):
            tokens, offsets, labels = f["tokens"], f["offsets"], f["y"]
            if len(offsets) != len(labels) + 1:
                raise DataError(
                    f"reuters: {path!r} has {len(labels)} labels 'y' but {len(offsets)} "
                    "'offsets' (expected one more offset than labels)"
                )
            xs = [tokens[offsets[i] : offsets[i + 1]].tolist() for i in range(len(labels))]
        else:
            raise DataError(
                f"reuters: {path!r} has keys {sorted(f)}; expected the pickle-free layout "
                "'tokens', 'offsets', 'y' (reuters_flat.npz)"
            )
        rng = np.random.RandomState(113)
        order = np.arange(len(xs))
        rng.shuffle(order)
        xs, labels = [xs[i] for i in order], np.asarray(labels)[order]
        seqs = [[1] + [w + 3 if w + 3 < max_words else 2 for w in x] for x in xs]
        n = int(len(seqs) * 0.8)
        return seqs[:n], labels[:n], seqs[n:], labels[n:]
    return _download_reuters(max_words)


def _download_reuters(max_words: int):
    """Keras' own loader downloads once into ~/.keras/datasets; offline it cannot."""
    import keras

    try:
        (xtr, ytr), (xte, yte) = keras.datasets.reuters.load_data(num_words=max_words)
    except Exception as exc:  # URLError, HTTPError, socket errors: all mean "no download"
        raise DataError(
            f"reuters: no local file given and the download failed ({type(exc).__name__}: "
            f"{exc}). Give a local file: data_path='.../reuters_flat.npz' (keys 'tokens', "
            f"'offsets', 'y'; --data-path in the CLI), or set {SHARED_DATA_ENV} to a folder "
            "holding reuters_flat.npz; or use a built-in offline set: digits, wine, mnist1d"
        ) from None
    return list(xtr), ytr, list(xte), yte


def _bag_of_words(seqs: list[list[int]], max_words: int) -> np.ndarray:
    """Binary (N, max_words) uint8: 1 where a word index occurs (Keras' "binary" mode)."""
    out = np.zeros((len(seqs), max_words), dtype=np.uint8)
    for i, s in enumerate(seqs):
        out[i, np.asarray(s, dtype=np.int64)] = 1
    return out


def _pad(seqs: list[list[int]], length: int) -> np.ndarray:
    """Keep each sequence's last ``length`` tokens, left-padded with 0 (Keras' default)."""
    out = np.zeros((len(seqs), length), dtype=np.int32)
    for i, s in enumerate(seqs):
        tail = s[-length:]
        if tail:
            out[i, -len(tail) :] = tail
    return out


REUTERS_TOPICS = [
    "cocoa",
    "grain",
    "veg-oil",
    "earn",
    "acq",
    "wheat",
    "copper",
    "housing",
    "money-supply",
    "coffee",
    "sugar",
    "trade",
    "reserves",
    "ship",
    "cotton",
    "carcass",
    "crude",
    "nat-gas",
    "cpi",
    "money-fx",
    "interest",
    "gnp",
    "meal-feed",
    "alum",
    "oilseed",
    "gold",
    "tin",
    "strategic-metal",
    "livestock",
    "retail",
    "ipi",
    "iron-steel",
    "rubber",
    "heat",
    "jobs",
    "lei",
    "bop",
    "zinc",
    "orange",
    "pet-chem",
    "dlr",
    "gas",
    "silver",
    "wpi",
    "hog",
    "lead",
]


def load_reuters(spec: DataSpec) -> Dataset:
    path = spec.path or str(_shared_file("reuters_flat.npz") or "")
    xtr, ytr, xte, yte = _load_reuters_sequences(path, spec.max_words)
    if spec.form == "tokens":
        xtr, xte = _pad(xtr, spec.sequence_length), _pad(xte, spec.sequence_length)
    else:
        xtr, xte = _bag_of_words(xtr, spec.max_words), _bag_of_words(xte, spec.max_words)
    return make_dataset(
        "reuters", xtr, ytr, xte, yte, spec, REUTERS_TOPICS, vocab_size=spec.max_words
    )


def load_digits(spec: DataSpec) -> Dataset:
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = (bunch.images / 16.0).astype(np.float32)[..., None]  # (N, 8, 8, 1)
    xtr, ytr, xte, yte = _split_test(x, bunch.target, 0.2, 0, spec.stratify)
    return make_dataset("digits", xtr, ytr, xte, yte, spec)


def load_wine(spec: DataSpec) -> Dataset:
    from sklearn.datasets import load_wine as sk_wine

    bunch = sk_wine()
    x = bunch.data.astype(np.float32)
    xtr, ytr, xte, yte = _split_test(x, bunch.target, 0.2, 0, spec.stratify)
    mean, std = xtr.mean(axis=0), xtr.std(axis=0) + 1e-8
    return make_dataset(
        "wine", (xtr - mean) / std, ytr, (xte - mean) / std, yte, spec, list(bunch.target_names)
    )


def load_mnist1d(spec: DataSpec) -> Dataset:
    """The standard MNIST-1D split (4,000 train / 1,000 test, 40 steps)."""
    path = spec.path or str(_shared_file("mnist1d.npz") or "")
    if path:
        f = load_npz_arrays(path, "mnist1d")
        x, y, x_test, y_test = (_key(f, k, path) for k in ("x", "y", "x_test", "y_test"))
    else:
        from mnist1d.data import get_dataset_args
        from mnist1d.data import make_dataset as make_mnist1d

        d = make_mnist1d(get_dataset_args())  # offline generator, seed 42
        x, y, x_test, y_test = d["x"], d["y"], d["x_test"], d["y_test"]
    return make_dataset("mnist1d", x, y, x_test, y_test, spec)


def load_arrays_file(spec: DataSpec) -> Dataset:
    """User arrays saved by :func:`save_arrays` (keys x_train, y_train, x_test, y_test, and
    optionally x_val, y_val: the user's own validation split), or a user's .npz with keys x
    and y (split 80/20 by the seed)."""
    f = load_npz_arrays(spec.path, f"data {spec.name!r}")
    names = json.loads(str(f["class_names"])) if "class_names" in f else None
    if "x_train" not in f and {"x", "y"} <= set(f):  # one (x, y) pair: split 80/20 by seed
        arrays = split_user_arrays((f["x"], f["y"]), spec.seed, spec.stratify)
    else:
        arrays = tuple(_key(f, k, spec.path) for k in ("x_train", "y_train", "x_test", "y_test"))
    val = (f["x_val"], _key(f, "y_val", spec.path)) if "x_val" in f else (None, None)
    return make_dataset(spec.name, *arrays, spec, names, x_val=val[0], y_val=val[1])


def _key(arrays: dict[str, np.ndarray], key: str, path: str) -> np.ndarray:
    if key not in arrays:
        raise DataError(f"data file {path!r} has no key {key!r}; it has {sorted(arrays)}")
    return arrays[key]


def save_arrays(
    path: str | os.PathLike, x_train, y_train, x_test, y_test, x_val=None, y_val=None
) -> None:
    """Store user arrays (no pickle) so workers and re-opened folders can load them."""
    tmp = Path(str(path) + ".tmp.npz")
    arrays = {
        "x_train": np.asarray(x_train),
        "y_train": np.asarray(y_train),
        "x_test": np.asarray(x_test),
        "y_test": np.asarray(y_test),
    }
    if x_val is not None:
        arrays.update(x_val=np.asarray(x_val), y_val=np.asarray(y_val))
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


_LOADERS = {
    "reuters": load_reuters,
    "digits": load_digits,
    "mnist1d": load_mnist1d,
    "wine": load_wine,
}


def load_dataset(spec: DataSpec) -> Dataset:
    if spec.form not in FORMS:
        raise DataError(f"data form {spec.form!r} is not one of {FORMS}")
    if spec.name in _LOADERS:
        return _LOADERS[spec.name](spec)
    if spec.path:
        return load_arrays_file(spec)
    raise DataError(
        f"data {spec.name!r}: not a built-in data set ({', '.join(BUILTIN_DATASETS)}) "
        "and no arrays path given"
    )


_CACHE: dict[str, Dataset] = {}


def load_dataset_cached(spec: DataSpec) -> Dataset:
    """One load per process per spec: workers reuse the arrays across models."""
    key = json.dumps(spec.to_dict(), sort_keys=True)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load_dataset(spec)
    return _CACHE[key]


def describe_source(spec: DataSpec) -> str:
    """Which data a spec loads, in words: the file when there is one."""
    if spec.name in _LOADERS:
        return f"built-in {spec.name!r}" + (f" from {spec.path}" if spec.path else "")
    return f"file {spec.path}" if spec.name != "arrays" else "arrays given in Python"


def remember_dataset(spec: DataSpec, dataset: Dataset) -> None:
    """Cache a data set already loaded (and checked) for ``spec``, e.g. at clade creation."""
    _CACHE.clear()
    _CACHE[json.dumps(spec.to_dict(), sort_keys=True)] = dataset


def with_form(spec: DataSpec, form: str) -> DataSpec:
    return replace(spec, form=form)


def split_user_arrays(data: tuple, seed: int, stratify: bool = False) -> tuple:
    """(x, y) -> 80/20 train/test split; (x_train, y_train, x_test, y_test) and
    (x_train, y_train, x_val, y_val, x_test, y_test) as given (the last returned in the
    order x_train, y_train, x_test, y_test, x_val, y_val)."""
    if len(data) == 2:
        x, y = check_arrays(data[0], data[1], "data")
        return _split_test(x, y, 0.2, seed, stratify)
    if len(data) == 4:
        x_train, y_train = check_arrays(data[0], data[1], "training data")
        x_test, y_test = check_arrays(data[2], data[3], "test data")
        return x_train, y_train, x_test, y_test
    if len(data) == 6:
        x_train, y_train, x_val, y_val, x_test, y_test = data
        return x_train, y_train, x_test, y_test, x_val, y_val
    raise DataError(
        f"data arrays: expected (x, y), (x_train, y_train, x_test, y_test) or "
        f"(x_train, y_train, x_val, y_val, x_test, y_test), got a tuple of {len(data)}"
    )
