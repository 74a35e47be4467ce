"""Data: validation errors, built-in sets (digits, wine, mnist1d, reuters) and their splits."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dlgene_core import DataError, DataSpec, load_dataset
from dlgene_core.data import _load_reuters_sequences, check_arrays, make_dataset

TRAIN_DATA_10 = [1, 245, 273, 207, 156, 53, 74, 160, 26, 14, 46, 296, 26, 39, 74, 2979, 3554, 14]
TRAIN_DATA_10 += [46, 4689, 4329, 86, 61, 3499, 4795, 14, 61, 451, 4329, 17, 12]


def _arrays(n: int = 20, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype(np.float32), np.arange(n) % classes


# ---------------------------------------------------------------------- validation
def test_shape_mismatch_names_both_counts() -> None:
    x, y = _arrays()
    with pytest.raises(DataError, match="x has 20 samples but y has 19"):
        check_arrays(x, y[:-1], "training data")


def test_nan_is_rejected_with_a_count() -> None:
    x, y = _arrays()
    x[3, 1] = np.nan
    x[5, 0] = np.inf
    with pytest.raises(DataError, match="training data: x holds 2 NaN or infinite"):
        check_arrays(x, y, "training data")


def test_negative_and_string_labels_are_remapped() -> None:
    x, y = _arrays()
    y = y.copy()
    y[4] = -1
    ds = make_dataset("toy", x, y, x, y, DataSpec("toy"))
    assert ds.classes == [-1, 0, 1, 2] and ds.n_classes == 4
    assert "remapped" in ds.notes[0]
    words = np.array(["b", "a", "c"])[np.arange(20) % 3]
    ds = make_dataset("toy", x, words, x, words, DataSpec("toy"))
    assert ds.classes == ["a", "b", "c"]
    np.testing.assert_array_equal(np.asarray(ds.classes)[ds.y_test], words)


def test_fractional_labels() -> None:
    x, _ = _arrays()
    with pytest.raises(DataError, match="whole class labels"):
        check_arrays(x, np.full(20, 0.5), "data")
    with pytest.raises(DataError, match="integer or string class labels"):
        check_arrays(x, np.full(20, 1 + 2j), "data")


def test_test_labels_outside_training_labels() -> None:
    x, y = _arrays(classes=3)
    y_test = y.copy()
    y_test[0] = 7
    with pytest.raises(DataError, match=r"test data: label 7 is outside the training labels 0"):
        make_dataset("toy", x, y, x, y_test, DataSpec("toy"))


def test_one_hot_labels() -> None:
    x, y = _arrays()
    onehot = np.eye(3)[y]
    _, back = check_arrays(x, onehot, "data")
    np.testing.assert_array_equal(back, y)
    bad = onehot.copy()
    bad[2] = [1, 1, 0]
    with pytest.raises(DataError, match="one-hot"):
        check_arrays(x, bad, "data")


def test_x_shape_and_sample_shape_errors() -> None:
    with pytest.raises(DataError, match="feature axis"):
        check_arrays(np.zeros(5), np.zeros(5, dtype=int), "data")
    x, y = _arrays()
    with pytest.raises(DataError, match=r"sample shape \(4,\) but test x has \(5,\)"):
        make_dataset("toy", x, y, np.zeros((3, 5)), y[:3], DataSpec("toy"))
    with pytest.raises(DataError, match="at least 2 classes"):
        make_dataset("toy", x, np.zeros(20, dtype=int), x, np.zeros(20, dtype=int), DataSpec("t"))


def test_unknown_name_and_form() -> None:
    with pytest.raises(DataError, match="not a built-in data set"):
        load_dataset(DataSpec("imagenet"))
    with pytest.raises(DataError, match="form 'cube'"):
        load_dataset(DataSpec("digits", form="cube"))


# ---------------------------------------------------------------------- built-in sets
def _all_rows(ds) -> np.ndarray:
    return np.concatenate([ds.x_train, ds.x_val, ds.x_test]).reshape(-1, ds.x_train.shape[1])


def _sorted_rows(a: np.ndarray) -> np.ndarray:
    return a[np.lexsort(a.T[::-1])]


def test_digits_splits_and_contents(shared_data) -> None:
    ds = load_dataset(DataSpec("digits", validation_fraction=0.1, seed=0))
    assert ds.form == "flat" and ds.input_shape == (64,) and ds.n_classes == 10
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (1294, 144, 359)
    assert ds.x_train.dtype == np.float32
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0
    # the same 1,797 images as the shared file (values 0..16), spread over the three splits
    with np.load(shared_data / "digits.npz") as f:
        ref_x, ref_y = f["x"], f["y"]
    ours = np.round(_all_rows(ds) * 16).astype(np.int64)
    ours_xy = np.column_stack([ours, np.concatenate([ds.y_train, ds.y_val, ds.y_test])])
    ref_xy = np.column_stack([ref_x.astype(np.int64), ref_y])
    np.testing.assert_array_equal(_sorted_rows(ours_xy), _sorted_rows(ref_xy))
    grid = load_dataset(DataSpec("digits", form="grid"))
    assert grid.input_shape == (8, 8, 1)


def test_validation_split_follows_seed_and_fraction() -> None:
    a = load_dataset(DataSpec("wine", seed=1))
    b = load_dataset(DataSpec("wine", seed=1))
    c = load_dataset(DataSpec("wine", seed=2))
    d = load_dataset(DataSpec("wine", seed=1, validation_fraction=0.25))
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.x_val, c.x_val)
    np.testing.assert_array_equal(a.x_test, c.x_test)  # the test split never moves
    assert len(d.y_val) == round(142 * 0.25)


def test_wine_is_standardised(shared_data) -> None:
    ds = load_dataset(DataSpec("wine"))
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (128, 14, 36)
    assert ds.n_classes == 3 and ds.input_shape == (13,)
    assert ds.class_names == ["class_0", "class_1", "class_2"]
    train = np.concatenate([ds.x_train, ds.x_val])
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1.0, atol=1e-4)
    with np.load(shared_data / "wine.npz") as f:
        counts = np.bincount(f["y"])
    got = np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test]))
    np.testing.assert_array_equal(got, counts)


def test_mnist1d_from_shared_file(shared_data) -> None:
    ds = load_dataset(DataSpec("mnist1d", path=str(shared_data / "mnist1d.npz"), form="grid"))
    assert ds.input_shape == (40, 1) and ds.n_classes == 10
    assert (len(ds.y_train) + len(ds.y_val), len(ds.y_test)) == (4000, 1000)
    with np.load(shared_data / "mnist1d.npz") as f:
        np.testing.assert_allclose(ds.x_test[..., 0], f["x_test"].astype(np.float32))
        np.testing.assert_array_equal(ds.y_test, f["y_test"])


def test_mnist1d_env_folder(shared_data, monkeypatch) -> None:
    monkeypatch.setenv("DLGENE_DATA_DIR", str(shared_data))
    ds = load_dataset(DataSpec("mnist1d"))
    assert ds.input_shape == (40,)
    assert len(ds.y_test) == 1000


def test_mnist1d_generator_matches_the_shared_file(shared_data, monkeypatch) -> None:
    monkeypatch.delenv("DLGENE_DATA_DIR", raising=False)
    started = time.perf_counter()
    generated = load_dataset(DataSpec("mnist1d"))
    assert time.perf_counter() - started < 60  # about 1-4 s: no slow mark needed
    stored = load_dataset(DataSpec("mnist1d", path=str(shared_data / "mnist1d.npz")))
    np.testing.assert_array_equal(generated.y_train, stored.y_train)
    np.testing.assert_array_equal(generated.y_test, stored.y_test)
    np.testing.assert_allclose(generated.x_test, stored.x_test, atol=1e-6)


# ---------------------------------------------------------------------- reuters
def test_reuters_sequences_match_keras(shared_data) -> None:
    x_train, y_train, x_test, y_test = _load_reuters_sequences(
        str(shared_data / "reuters_flat.npz"), 10000
    )
    assert (len(x_train), len(x_test)) == (8982, 2246)
    assert x_train[10] == TRAIN_DATA_10
    assert int(y_train[10]) == 3
    assert all(s[0] == 1 for s in x_train[:100])  # start_char
    assert max(max(s) for s in x_train) == 9999  # num_words: indices < 10,000
    assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(46))


def test_reuters_flat_file_splits(shared_data) -> None:
    # Keras' pickled reuters.npz is refused (tests/test_hardening_security.py); the
    # pickle-free reuters_flat.npz holds the same wires
    spec = {"max_words": 1000, "validation_fraction": 0.1, "seed": 0}
    da = load_dataset(DataSpec("reuters", path=str(shared_data / "reuters_flat.npz"), **spec))
    assert (len(da.y_train) + len(da.y_val), len(da.y_test)) == (8982, 2246)
    assert len(da.y_val) == 898
    assert da.input_shape == (1000,) and da.n_classes == 46
    assert da.class_names[3] == "earn"
    # bag of words: a 1 at each word index present (index 1 = start, in every wire), kept
    # as uint8 (Keras casts it to float32 at the model input)
    assert da.x_train.dtype == np.uint8 and da.x_test.dtype == np.uint8
    assert set(np.unique(da.x_train)) == {0, 1}
    assert da.x_train[:, 1].min() == 1


def test_reuters_bag_of_words_row(shared_data) -> None:
    x_train, _, _, _ = _load_reuters_sequences(str(shared_data / "reuters_flat.npz"), 10000)
    from dlgene_core.data import _bag_of_words

    bag = _bag_of_words(x_train[10:11], 10000)
    np.testing.assert_array_equal(np.flatnonzero(bag[0]), sorted(set(TRAIN_DATA_10)))


def test_reuters_tokens_form_and_env(shared_data, monkeypatch) -> None:
    monkeypatch.setenv("DLGENE_DATA_DIR", str(shared_data))
    ds = load_dataset(DataSpec("reuters", form="tokens", sequence_length=50, max_words=10000))
    assert ds.x_test.dtype == np.int32 and ds.x_test.shape == (2246, 50)
    # left-padded / keeping each wire's last 50 tokens: the tail of the first test wire
    _, _, x_test, _ = _load_reuters_sequences(str(shared_data / "reuters_flat.npz"), 10000)
    tail = x_test[0][-50:]
    np.testing.assert_array_equal(ds.x_test[0, 50 - len(tail) :], tail)


def test_reuters_missing_path() -> None:
    with pytest.raises(DataError, match="no file at path"):
        load_dataset(DataSpec("reuters", path="/nonexistent/reuters.npz"))
