"""Issue 11, security: a run folder is untrusted input; opening it never runs its code."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from dlgene_core import GAFC1, CladeConfig, DataError, UnsafeModelError
from dlgene_core.cli import main
from dlgene_core.data import DataSpec, load_dataset


class _Planted:
    """Unpickling this object creates the marker file: proof that code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted_npz(path: Path, marker: Path, keys: tuple[str, ...]) -> Path:
    planted = np.empty(3, dtype=object)
    planted[:] = [_Planted(marker), [1, 2], [3]]
    arrays = {k: planted for k in keys}
    arrays["y"] = np.array([0, 1, 0])
    np.savez(path, **arrays)  # np.savez pickles object arrays (as Keras' reuters.npz does)
    return path


def test_the_planted_object_would_run_when_unpickled(tmp_path) -> None:
    """The fixture is real: plain unpickling creates the marker (so the tests below can fail)."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Planted(marker)))
    assert marker.exists()


CRAFTED_CASES = [
    # (data spec name, keys holding the planted object array, key the error names)
    ("reuters", ("x",), "x"),
    ("reuters", ("tokens", "offsets"), "offsets"),
    ("mnist1d", ("x", "x_test", "y_test"), "x"),
    ("mine", ("x_train", "y_train", "x_test", "y_test"), "x_train"),
]


@pytest.mark.parametrize(("name", "keys", "named_key"), CRAFTED_CASES)
def test_crafted_npz_is_refused_without_running(tmp_path, name, keys, named_key) -> None:
    marker = tmp_path / "ran"
    crafted = _crafted_npz(tmp_path / "crafted.npz", marker, keys)
    with pytest.raises(DataError) as info:
        load_dataset(DataSpec(name, path=str(crafted)))
    message = str(info.value)
    assert str(crafted) in message and "object array" in message
    assert f"key {named_key!r}" in message or "key 'y'" not in message
    assert not marker.exists()


def test_resume_of_a_folder_pointing_at_a_crafted_npz(tmp_path, capsys) -> None:
    """The attack of the issue: clade.json's data path names a crafted file; `dlgene resume`."""
    folder = tmp_path / "run"
    GAFC1(CladeConfig(population_size=2, generations=1), data="wine", folder=folder).close()
    marker = tmp_path / "ran"
    crafted = _crafted_npz(tmp_path / "reuters.npz", marker, ("x",))
    meta = json.loads((folder / "clade.json").read_text())
    meta["data"].update(name="reuters", path=str(crafted))
    (folder / "clade.json").write_text(json.dumps(meta))
    assert main(["resume", str(folder), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "object array" in err and str(crafted) in err and "'x'" in err
    assert "Traceback" not in err
    assert not marker.exists()


def test_keras_layout_reuters_is_refused_and_flat_file_loads(shared_data) -> None:
    with pytest.raises(DataError, match=r"reuters\.npz.*key 'x'.*object array.*reuters_flat"):
        load_dataset(DataSpec("reuters", path=str(shared_data / "reuters.npz"), max_words=500))
    ds = load_dataset(
        DataSpec("reuters", path=str(shared_data / "reuters_flat.npz"), max_words=500)
    )
    assert ds.n_classes == 46 and ds.input_shape == (500,)


def _planted_h5(path: Path, marker: Path) -> Path:
    import keras

    inputs = keras.Input((3,))
    # the path comes from the environment: Keras stores the lambda's bytecode, not closures
    layer = keras.layers.Lambda(
        lambda t: (open(__import__("os").environ["DLGENE_TEST_MARKER"], "w").close(), t)[1]
    )
    model = keras.Model(inputs, keras.layers.Dense(2)(layer(inputs)))
    marker.unlink(missing_ok=True)  # building the model above called the lambda once
    model.save(path)
    return path


def test_planted_lambda_h5_is_refused_and_nothing_runs(tmp_path, monkeypatch) -> None:
    import keras

    folder = tmp_path / "run"
    clade = GAFC1(CladeConfig(population_size=2, generations=1), data="wine", folder=folder)
    marker = tmp_path / "ran"
    monkeypatch.setenv("DLGENE_TEST_MARKER", str(marker))
    planted = _planted_h5(clade.store.model_path("g0-m00"), marker)
    with pytest.raises(UnsafeModelError) as info:
        clade.load_model("g0-m00")
    assert str(planted) in str(info.value) and "safe_mode" in str(info.value)
    assert not marker.exists()
    # the file is a real threat: unsafe loading runs the planted code
    keras.models.load_model(planted, compile=False, safe_mode=False)
    assert marker.exists()
    clade.close()


def test_no_allow_pickle_true_in_the_package() -> None:
    root = Path(__file__).resolve().parents[1]
    sources = [*root.glob("dlgene_core/**/*.py"), *root.glob("dlgene_widgets/**/*.py")]
    offenders = [str(p) for p in sources if "allow_pickle=True" in p.read_text()]
    assert offenders == []
    assert all(
        "safe_mode=True" in p.read_text()
        for p in sources
        if "keras.models.load_model(" in p.read_text()
    )
