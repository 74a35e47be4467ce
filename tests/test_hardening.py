"""Issue 11: bad inputs give the exact error naming the field / file / value; silent-wrong
cases now use the right data and config. One table-driven test per group of the issue.
(Security: test_hardening_security.py; processes, disk and output: test_hardening_process.py.)
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from dlgene_core import GACNN1, GAFC1, Clade, CladeConfig, ConfigError, DataError
from dlgene_core.cli import main
from dlgene_core.data import DataSpec, load_dataset
from dlgene_core.errors import CladeStateError, DamagedFolderError
from dlgene_core.executors import implied_executor, resolve_executor

TINY = CladeConfig(
    population_size=2,
    generations=1,
    epochs=(1, 1),
    nb_layers=(1, 1),
    nb_units=(2, 4),
    batch_size=(32, 64),
    optimizers=["adam"],
    lr_bins=[(1e-3, 1e-2)],
)


# ---------------------------------------------------------------------- 6, 7, 10: config
def _constructor(kw):
    return CladeConfig(**kw)


def _updated(kw):
    return CladeConfig().updated(**kw)


def _set(items):
    return CladeConfig().update_from_strings(items)


def _json(text):
    return CladeConfig.from_json(text)


def _assign(kw):
    cfg = CladeConfig()
    for key, value in kw.items():
        setattr(cfg, key, value)
    return cfg


CONFIG_CASES = [
    # (entry path, input, field named, substrings of the message)
    (_constructor, {"populaton_size": 8}, "populaton_size", ["did you mean 'population_size'"]),
    (_updated, {"generatons": 2}, "generatons", ["did you mean 'generations'"]),
    (_set, ["max_train_tme=3"], "max_train_tme", ["did you mean 'max_train_time'"]),
    (_json, '{"mutate_probb": 0.1}', "mutate_probb", ["did you mean 'mutate_prob'"]),
    (_set, ["max_train_time=true"], "max_train_time", ["True", "not a boolean"]),
    (_set, ["generations=true"], "generations", ["True", "an integer"]),
    (_set, ['population_size="8"'], "population_size", ["'8'", "an integer"]),
    (_set, ["population_size=[8]"], "population_size", ["[8]"]),
    (_set, ["population_size=null"], "population_size", ["None"]),
    (_json, '{"population_size": "eight"}', "population_size", ["'eight'"]),
    (_json, '{"deterministic": 1}', "deterministic", ["true or false"]),
    (_constructor, {"max_train_time": True}, "max_train_time", ["not a boolean"]),
    (_constructor, {"nb_units": (True, 8)}, "nb_units", ["not a boolean"]),
    (_assign, {"population_size": 8.5}, "population_size", ["8.5"]),
    (_assign, {"activations": ["relu", 3]}, "activations", ["a string"]),
    (_constructor, {"regularizers": {"l1": True}}, "regularizers", ["True"]),
    (_constructor, {"seed": -1}, "seed", ["-1", ">= 0"]),
    (_set, ["seed=4294967296"], "seed", ["4294967296", "<= 4294967295"]),
    (_constructor, {"population_size": 10**9}, "population_size", ["1000000000", "<= 10000"]),
    (_set, ["generations=1000000"], "generations", ["<= 100000"]),
]


@pytest.mark.parametrize(("entry", "given", "field", "parts"), CONFIG_CASES)
def test_config_errors_name_field_and_value(entry, given, field, parts) -> None:
    with pytest.raises(ConfigError) as info:
        entry(given)
    assert type(info.value) is ConfigError
    assert info.value.field == field
    for part in parts:
        assert part in str(info.value)


def test_config_json_garbage_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "population_size": 8,\n  oops\n}\n')
    with pytest.raises(ConfigError, match=r"config\.json.*line 3 column 3"):
        CladeConfig.from_json(path)
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match=r"config\.json.*JSON object"):
        CladeConfig.from_json(path)


def test_config_values_that_are_right_are_kept() -> None:
    cfg = CladeConfig().update_from_strings(["max_train_time=3", "population_size=8.0"])
    assert cfg.max_train_time == 3.0 and type(cfg.max_train_time) is float
    assert cfg.population_size == 8 and type(cfg.population_size) is int
    assert CladeConfig(seed=2**32 - 1).seed == 2**32 - 1


# ---------------------------------------------------------------------- 3, 4, 5, 9b: data
def _xy(n=60, classes=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype(dtype), np.arange(n) % classes


def _split4(x, y):
    return x[:48], y[:48], x[48:], y[48:]


DATA_ERROR_CASES = [
    # (arrays, substrings of the DataError)
    ((_xy()[0], np.ones(60, dtype=int)), ["1 class", "1", "at least 2 classes"]),
    ((_xy()[0], np.full(60, 7)), ["1 class", "7"]),
    ((_xy()[0], np.array(["cat"] * 60)), ["1 class", "'cat'"]),
    ((_xy()[0].astype(np.float64) * 1e300, _xy()[1]), ["float32", "infinite"]),
    ((_xy()[0] + 1j, _xy()[1]), ["complex"]),
    ((_xy()[0][:50], _xy()[1], _xy()[0], _xy()[1]), ["training data", "50", "60"]),
    ((*_split4(*_xy())[:3], np.full(12, 9)), ["test data", "label 9", "outside"]),
]


@pytest.mark.parametrize(("arrays", "parts"), DATA_ERROR_CASES)
def test_data_mistakes_are_data_errors(tmp_path, arrays, parts) -> None:
    folder = tmp_path / "run"
    with pytest.raises(DataError) as info:
        GAFC1(TINY, data=arrays, folder=folder)
    for part in parts:
        assert part in str(info.value)
    assert not folder.exists()  # 9c: nothing is written for a data mistake


def test_data_mistake_leaves_no_folder_and_a_retry_works(tmp_path) -> None:
    """9c: a 4-tuple with mismatched lengths fails at once; the corrected retry succeeds."""
    x, y = _xy()
    folder = tmp_path / "run"
    with pytest.raises(DataError, match="x has 48 samples but y has 47"):
        GAFC1(TINY, data=(x[:48], y[:47], x[48:], y[48:]), folder=folder)
    assert not folder.exists()
    folder.mkdir()  # a folder the user made beforehand keeps existing, and stays empty
    with pytest.raises(DataError):
        GAFC1(TINY, data=(x[:48], y[:47], x[48:], y[48:]), folder=folder)
    assert list(folder.iterdir()) == []
    clade = GAFC1(TINY, data=_split4(x, y), folder=folder)
    assert (folder / "data" / "arrays.npz").exists() and len(clade.dataset.y_test) == 12
    clade.close()


LABEL_CASES = [
    # (labels, expected Dataset.classes, a note is printed)
    (np.arange(60) % 3, [0, 1, 2], False),
    (np.arange(60) % 3 + 1, [1, 2, 3], True),  # 1..K: K classes, not K+1
    ((np.arange(60) % 3) * 2, [0, 2, 4], True),  # gaps closed
    (np.array(["spam", "ham", "eggs"])[np.arange(60) % 3], ["eggs", "ham", "spam"], True),
    (np.arange(60) % 2 - 1, [-1, 0], True),
]


@pytest.mark.parametrize(("labels", "classes", "noted"), LABEL_CASES)
def test_labels_are_remapped_and_kept(tmp_path, capsys, labels, classes, noted) -> None:
    x, _ = _xy()
    folder = tmp_path / "run"
    clade = GAFC1(TINY, data=_split4(x, labels), folder=folder)
    ds = clade.dataset
    assert ds.classes == classes and ds.n_classes == len(classes)
    np.testing.assert_array_equal(np.asarray(ds.classes)[ds.y_test], labels[48:])
    assert set(ds.y_train) | set(ds.y_val) == set(range(len(classes)))
    err = capsys.readouterr().err
    assert ("remapped" in err) is noted
    clade.close()
    again = Clade.open(folder, read_only=True)  # the mapping is the same after a reload
    from dlgene_core.data import _CACHE

    _CACHE.clear()
    assert again.load_data().classes == classes


def test_an_existing_file_named_like_a_builtin_is_that_file(tmp_path, shared_data) -> None:
    """3: --data wine.npz is the user's file (here: 100 shuffled wine rows), not sklearn's."""
    with np.load(shared_data / "wine.npz") as f:
        x, y = f["x"][:100] * 2.0, f["y"][:100]
    mine = tmp_path / "wine.npz"
    np.savez(mine, x=x, y=y)
    clade = GAFC1(TINY, data=str(mine), folder=tmp_path / "run")
    assert clade.data_spec.path == str(mine.resolve()) and clade.data_spec.name == "wine.npz"
    ds = clade.dataset
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 100
    # the built-in set is standardised (|x| < 10); the user's file holds proline * 2 > 1000
    top = max(ds.x_train.max(), ds.x_val.max(), ds.x_test.max())
    assert top == pytest.approx(x.max(), rel=1e-6) and top > 1000
    clade.load_data()
    assert "file " + str(mine.resolve()) in clade.message
    clade.close()


def test_user_digits_file_with_x_and_y(tmp_path, shared_data, capsys) -> None:
    """The shared digits.npz (x uint8 0..16, y) loads as the user's file, with a uint8 note."""
    clade = GAFC1(TINY, data=str(shared_data / "digits.npz"), folder=tmp_path / "run")
    ds = clade.dataset
    assert ds.input_shape == (64,) and ds.n_classes == 10
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 1797
    assert "uint8 with values 0..16" in capsys.readouterr().err
    clade.close()


def test_tabular_data_for_gacnn1_gets_a_note(tmp_path, capsys) -> None:
    clade = GACNN1(TINY.updated(kind="GACNN1"), data="wine", folder=tmp_path / "run")
    clade.load_data()
    err = capsys.readouterr().err
    assert "GACNN1 reads x of 13 features per sample as a 1-D sequence" in err
    assert "GAFC1" in err
    clade.close()


def test_reuters_download_failure_says_how_to_give_a_file(monkeypatch) -> None:
    """17: offline, Keras' loader raises; the DataError says how to give a local file."""
    import urllib.error

    import keras

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(keras.datasets.reuters, "load_data", offline)
    monkeypatch.delenv("DLGENE_DATA_DIR", raising=False)
    with pytest.raises(DataError) as info:
        load_dataset(DataSpec("reuters"))
    message = str(info.value)
    assert "download failed" in message and "data_path=" in message
    assert "reuters_flat.npz" in message and "DLGENE_DATA_DIR" in message


# ---------------------------------------------------------------------- 8, 9, 10, 11: CLI
@pytest.fixture(scope="module")
def grown_folder(tmp_path_factory):
    """A GAFC1 folder with genotypes (spawned, not trained: the refusals come first)."""
    folder = tmp_path_factory.mktemp("grown") / "run"
    with GAFC1(TINY, data="wine", folder=folder) as clade:
        clade.spawn()
    return folder


CLI_CASES = [
    # (argv builder, exit code, substrings of stderr)
    (lambda f, t: ["resume", f, "--set", "kind=GACNN1"], 2, ["kind", "GAFC1", "load_genepool"]),
    (lambda f, t: ["resume", f, "--set", "seed=5"], 2, ["seed", "fixed", "load_genepool"]),
    (lambda f, t: ["resume", f, "--set", "max_words=50"], 2, ["max_words", "fixed"]),
    (lambda f, t: ["resume", f, "--set", 'population_size="8"'], 2, ["population_size", "'8'"]),
    (lambda f, t: ["resume", f, "--set", "populaton_size=8"], 2, ["did you mean"]),
    (
        lambda f, t: ["resume", f, "--set", "executor=pool", "--set", "scheduler=tcp://h:1"],
        2,
        ["scheduler", "tcp://h:1", "means Dask"],
    ),
    (lambda f, t: ["show", f, "--top", "0"], 2, ["--top", "got 0", ">= 1"]),
    (lambda f, t: ["show", f, "--top", "-1"], 2, ["--top", "got -1"]),
    (lambda f, t: ["evolve", "--data", "wine", "--out", t], 2, ["--out", "{t}", "existing file"]),
    (lambda f, t: ["evolve", "--data", "nope.npz", "--out", t + "d"], 2, ["nope.npz", "no file"]),
    (lambda f, t: ["evolve", "--config", t, "--out", t + "d"], 2, ["{t}", "line 1"]),
    (
        lambda f, t: ["evolve", "--data", "wine", "--out", t + "d", "--set", "seed=-1"],
        2,
        ["seed", "-1"],
    ),
]


@pytest.mark.parametrize(("argv", "code", "parts"), CLI_CASES)
def test_cli_mistakes_are_clean_errors(grown_folder, tmp_path, capsys, argv, code, parts):
    a_file = tmp_path / "a_file.json"
    a_file.write_text("not json")
    config_before = (grown_folder / "config.json").read_text()
    try:
        rc = main(argv(str(grown_folder), str(a_file)))
    except SystemExit as exc:  # argparse's own errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == code, err
    for part in parts:
        assert part.format(f=grown_folder, t=a_file) in err
    assert "Traceback" not in err
    assert (grown_folder / "config.json").read_text() == config_before  # nothing rewritten
    assert not (tmp_path / "a_file.jsond").exists()  # no folder made for a refused run


def test_scheduler_address_means_dask() -> None:
    from dlgene_core.executors.dask_executor import DaskExecutor

    cfg = CladeConfig(scheduler="tcp://127.0.0.1:8786")
    assert implied_executor(cfg) == "dask"
    runner = resolve_executor(None, cfg)
    assert isinstance(runner, DaskExecutor) and runner.address == "tcp://127.0.0.1:8786"
    assert implied_executor(CladeConfig(workers=2)) == "pool"
    assert implied_executor(CladeConfig()) == "inprocess"
    with pytest.raises(ConfigError, match=r"scheduler.*means Dask"):
        implied_executor(CladeConfig(executor="pool", scheduler="tcp://x:1"))


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error_within_seconds(tmp_path, capsys) -> None:
    started = time.monotonic()
    folder = tmp_path / "run"
    rc = main(
        [
            *("evolve", "--data", "wine", "--out", str(folder)),
            *("--scheduler", "tcp://127.0.0.1:1", "--set", "population_size=2", "--quiet"),
        ]
    )
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert rc == 2 and elapsed < 25, (elapsed, err)
    assert "tcp://127.0.0.1:1" in err and "scheduler" in err and "Traceback" not in err


# ---------------------------------------------------------------------- 13: damaged folders
def _grown(tmp_path):
    """A small finished folder (2 trained models), copied fresh for each damage."""
    folder = tmp_path / "run"
    with GAFC1(TINY, data="wine", folder=folder) as clade:
        clade.evolve()
    return folder


def _delete(rel):
    return lambda f: (f / rel).unlink()


def _truncate(rel):
    def damage(f):
        data = (f / rel).read_bytes()
        (f / rel).write_bytes(data[: len(data) // 2])

    return damage


def _drop_key(f):
    meta = json.loads((f / "clade.json").read_text())
    del meta["data"]
    (f / "clade.json").write_text(json.dumps(meta))


def _drop_column(f):
    table = pd.read_parquet(f / "phenotypes.parquet").drop(columns=["model_id"])
    table.to_parquet(f / "phenotypes.parquet")


def _garbage(rel):
    return lambda f: (f / rel).write_text("{ not json")


DAMAGE_CASES = [
    # (damage, how opening fails: error type and substrings, what `dlgene check` says)
    (
        _truncate("phenotypes.parquet"),
        DamagedFolderError,
        ["phenotypes.parquet", "Parquet"],
        ["phenotypes.parquet", "not a readable Parquet"],
    ),
    (
        _delete("genotypes.parquet"),
        DamagedFolderError,
        ["genotypes.parquet", "missing"],
        ["no genotype"],
    ),
    (_drop_key, DamagedFolderError, ["clade.json", "'data'"], ["clade.json", "'data'"]),
    (
        _drop_column,
        DamagedFolderError,
        ["phenotypes.parquet", "model_id"],
        ["phenotypes.parquet", "model_id"],
    ),
    (_garbage("clade.json"), DamagedFolderError, ["clade.json", "line 1"], ["clade.json"]),
    (_garbage("config.json"), ConfigError, ["config.json", "line 1"], ["config.json"]),
    (_delete("models/g0-000.h5"), None, [], ["g0-000", "g0-000.h5 is missing"]),
    (_delete("growth/g0-001.epochs.parquet"), None, [], ["g0-001.epochs.parquet is missing"]),
    (_truncate("results/g0-000.confusion.parquet"), None, [], ["g0-000.confusion.parquet"]),
]


@pytest.fixture(scope="module")
def finished_folder(tmp_path_factory):
    return _grown(tmp_path_factory.mktemp("finished"))


@pytest.mark.parametrize(("damage", "error", "parts", "check_parts"), DAMAGE_CASES)
def test_damaged_folder_errors_and_check(
    finished_folder, tmp_path, capsys, damage, error, parts, check_parts
) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(finished_folder, folder)
    assert main(["check", str(folder)]) == 0  # whole before the damage
    capsys.readouterr()
    damage(folder)
    if error is not None:
        with pytest.raises(error) as info:
            Clade.open(folder, read_only=True)
        for part in parts:
            assert part in str(info.value)
        assert main(["resume", str(folder), "--quiet"]) == 2
        assert "Traceback" not in capsys.readouterr().err
    assert main(["check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "DAMAGE:" in out
    for part in check_parts:
        assert part in out


def test_missing_model_file_is_named_when_loaded(finished_folder, tmp_path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(finished_folder, folder)
    (folder / "models" / "g0-000.h5").unlink()
    clade = Clade.open(folder, read_only=True)
    with pytest.raises(DamagedFolderError, match=r"g0-000\.h5: missing; model 'g0-000' finished"):
        clade.load_model("g0-000")


def test_check_lists_orphans_without_failing(finished_folder, tmp_path, capsys) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(finished_folder, folder)
    (folder / "models" / "g0-099.h5").write_bytes(b"x")  # a model killed before its row
    (folder / "growth" / ".g0-000.batches.parquet.1.2.tmp").write_bytes(b"x")
    assert main(["check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "orphan:" in out and "g0-099.h5: no phenotype row" in out
    assert "temporary file" in out and "no damage found" in out


# ---------------------------------------------------------------------- 16: summary wording
def test_summary_counts_generations_and_all_diverged(finished_folder, tmp_path, capsys):
    import shutil

    assert main(["show", str(finished_folder)]) == 0
    out = capsys.readouterr().out
    assert "1 generation (0), 2 models recorded: all 2 models ok" in out
    folder = tmp_path / "copy"
    shutil.copytree(finished_folder, folder)
    table = pd.read_parquet(folder / "phenotypes.parquet")
    table["status"], table["val_accuracy"], table["val_loss"] = "diverged", np.nan, np.nan
    table.to_parquet(folder / "phenotypes.parquet")
    assert main(["show", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "all 2 models diverged" in out and "no usable model" in out
    assert "no finished models yet" not in out and "models finished" not in out


def test_read_only_clade_refuses_writes(finished_folder) -> None:
    clade = Clade.open(finished_folder, read_only=True)
    with pytest.raises(CladeStateError, match="read-only"):
        clade.select_parents()
    with pytest.raises(CladeStateError, match="read-only"):
        clade.reconfigure(clade.config.updated(generations=3))
