"""Stratified splits, the user's own validation arrays and the small-validation rule."""

from __future__ import annotations

import numpy as np
import pytest

from dlgene_core import GAFC1, CladeConfig, DataSpec, load_dataset
from dlgene_core.data import make_dataset, validation_share
from dlgene_core.errors import DataError


def _arrays(n: int = 400, classes: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), n // classes)
    y[: n // 10] = 0  # class 0 is over-represented
    y = y[rng.permutation(n)]
    x = (rng.normal(size=(n, 6)) + y[:, None]).astype(np.float32)
    return x, y


def test_stratified_validation_keeps_class_shares() -> None:
    x, y = _arrays()
    spec = DataSpec("a", validation_fraction=0.2, stratify=True)
    d = make_dataset("a", x, y, x[:10], y[:10], spec)
    train_counts, val_counts = np.bincount(d.y_train), np.bincount(d.y_val)
    assert (np.abs(val_counts - np.bincount(y) * 0.2) < 1).all() and val_counts.sum() == 80
    assert (train_counts + val_counts == np.bincount(y)).all()
    again = make_dataset("a", x, y, x[:10], y[:10], spec)
    np.testing.assert_array_equal(d.y_val, again.y_val)  # seeded
    assert len(set(d.y_val[:20])) > 1  # shuffled, not class by class


def test_stratified_builtin_test_split() -> None:
    d = load_dataset(DataSpec("digits", stratify=True))
    shares = np.bincount(d.y_test) / np.bincount(np.concatenate([d.y_train, d.y_val, d.y_test]))
    assert np.ptp(shares) < 0.02  # every digit holds ~20% of its samples out for test


def test_user_validation_arrays_are_used_as_given(tmp_path) -> None:
    x, y = _arrays()
    data = (x[:300], y[:300], x[300:350], y[300:350], x[350:], y[350:])
    clade = GAFC1(CladeConfig(), data=data, folder=tmp_path / "run")
    d = clade.load_data()
    np.testing.assert_array_equal(d.y_val, y[300:350])
    np.testing.assert_array_equal(d.x_train, x[:300])
    assert len(d.y_test) == 50
    with pytest.raises(DataError, match="validation x has"):
        make_dataset("a", x, y, x, y, DataSpec("a"), x_val=x[:5, :3], y_val=y[:5])


def test_a_rare_class_alone_does_not_grow_a_large_split() -> None:
    """Reuters-like labels: eight classes of 120 and one of 4. The 10% split holds 96
    samples, over 10 per class on average; growing it for the rare class (10 of its 4
    cannot be had) would take half the training set."""
    spec = DataSpec(
        "a",
        validation_fraction=0.1,
        min_validation_samples=50,
        min_validation_per_class=10,
        per_class_rule="average",
    )
    y = np.concatenate([np.repeat(np.arange(8), 120), np.full(4, 8)])
    assert validation_share(y, spec) == (0.1, "")
    # a folder made before the rule changed keeps the rarest-class rule and its splits
    old = DataSpec.from_dict({k: v for k, v in spec.to_dict().items() if k != "per_class_rule"})
    assert validation_share(y, old)[0] == 0.5
    thin = np.concatenate([np.repeat(np.arange(8), 60), np.full(4, 8)])  # 48 in val at 0.1
    share, note = validation_share(thin, spec)
    assert share == pytest.approx(90 / len(thin)) and "on average" in note


def test_small_validation_split_grows_and_says_so(capsys, tmp_path) -> None:
    spec = DataSpec(
        "a",
        validation_fraction=0.1,
        min_validation_samples=50,
        min_validation_per_class=10,
        stratify=True,
    )
    x, y = _arrays(200)
    share, note = validation_share(y, spec)
    assert share == pytest.approx(0.25) and "small validation split" in note
    d = make_dataset("a", x, y, x[:10], y[:10], spec)
    assert len(d.y_val) >= 50 and np.bincount(d.y_val).min() >= 10
    assert d.notes == [note]
    _, tiny_y = _arrays(40)
    share, note = validation_share(tiny_y, spec)
    assert share == 0.5 and "still small" in note
    assert validation_share(y, DataSpec("a", validation_fraction=0.1)) == (0.1, "")
    clade = GAFC1(CladeConfig(), data=(x, y), folder=tmp_path / "run")
    clade.load_data()
    # notes go to stderr (stdout stays the run's results), once per clade
    assert "small validation split" in capsys.readouterr().err
    assert "small validation split" in clade.message


def test_an_unknown_per_class_rule_is_refused() -> None:
    spec = DataSpec("a", min_validation_per_class=10, per_class_rule="median")
    with pytest.raises(DataError, match="per_class_rule 'median': allowed 'average' or 'rarest'"):
        validation_share(np.arange(40) % 4, spec)
