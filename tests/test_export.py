"""Taking results out: compiled best models, .keras export read by plain Keras, labels,
predict with input checks, refit on train + validation, summary / show --format, TensorBoard."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from export_helpers import HAS_TENSORBOARD, grow_tiny

from dlgene_core import Clade, DataError
from dlgene_core.cli import main
from dlgene_core.export import LABELS_MEMBER, load_labels

pytestmark = pytest.mark.slow

# a fresh interpreter that may import keras (and numpy, json, zipfile) and nothing of dlgene
PLAIN_KERAS = textwrap.dedent(
    """
    import json, sys, zipfile
    import numpy as np
    import keras
    out = {}
    x = np.load(sys.argv[1])
    for path in sys.argv[2:]:
        model = keras.saving.load_model(path, safe_mode=True)
        labels = json.loads(zipfile.ZipFile(path).read("dlgene.json"))["classes"]
        probs = model.predict(x, verbose=0)
        out[path] = {
            "probs": probs.tolist(),
            "labels": [labels[i] for i in probs.argmax(axis=1)],
            "layers": [type(layer).__name__ for layer in model.layers],
        }
    assert not any(m.startswith("dlgene") for m in sys.modules), "dlgene was imported"
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def clade(tmp_path_factory) -> Clade:
    folder = tmp_path_factory.mktemp("export") / "run"
    return grow_tiny(folder, tensorboard=HAS_TENSORBOARD)


@pytest.fixture(scope="module")
def refit_row(clade) -> pd.DataFrame:
    return clade.refit()


def test_best_models_are_compiled_with_the_reported_weights(clade) -> None:
    models = clade.best_models(2)
    best = clade.best(2)
    assert len(models) == 2
    data = clade.dataset
    for model, (_, row) in zip(models, best.iterrows(), strict=True):
        loss, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
        assert accuracy == pytest.approx(row["test_accuracy"], abs=1e-6)
        assert loss == pytest.approx(row["test_loss"], rel=1e-3)
    with pytest.raises(ValueError, match="n=0"):
        clade.best_models(0)


def _run_plain_keras(tmp_path: Path, x: np.ndarray, paths: list[Path]) -> dict:
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "plain.py"
    script.write_text(PLAIN_KERAS)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "x.npy"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # not the repo: dlgene is not importable by accident from here
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_export_loads_in_plain_keras_with_the_same_predictions_and_labels(clade, tmp_path) -> None:
    x = clade.dataset.x_test[:40]
    plain = tmp_path / "plain.keras"
    clade.export("best", plain)
    dataset = clade.dataset
    identity = list(dataset.classes)
    exported = {}
    # the labels the user gave (the hardening branch fills Dataset.classes when it remaps)
    for name, labels in {"ints": list(range(1, 11)), "strings": list("abcdefghij")}.items():
        dataset.classes = labels
        try:
            exported[name] = (clade.export("best", tmp_path / f"{name}.keras"), labels)
            assert load_labels(exported[name][0]) == labels
            assert list(clade.predict(x, "best")) == [
                labels[i] for i in clade.predict_proba(x, "best").argmax(axis=1)
            ]
        finally:
            dataset.classes = identity
    result = _run_plain_keras(tmp_path, x, [plain, *(p for p, _ in exported.values())])
    expected = clade.predict_proba(x, "best")
    np.testing.assert_allclose(np.array(result[str(plain)]["probs"]), expected, atol=1e-5)
    assert result[str(plain)]["labels"] == list(clade.predict(x, "best"))
    assert "Lambda" not in result[str(plain)]["layers"]
    for path, labels in exported.values():
        got = result[str(path)]["labels"]
        assert got == [labels[i] for i in expected.argmax(axis=1)]
        assert {type(v) for v in got} == {type(labels[0])}  # 1..K stay ints, strings strings
    with zipfile.ZipFile(plain) as archive:  # self-contained: one file, labels inside
        assert {"config.json", "model.weights.h5", LABELS_MEMBER} <= set(archive.namelist())


def test_export_refuses_a_bad_path_and_an_unknown_model(clade, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"\.keras"):
        clade.export("best", tmp_path / "model.h5")
    with pytest.raises(KeyError, match="g9-999"):
        clade.export("g9-999", tmp_path / "m.keras")


def test_predict_checks_its_input_like_training_data(clade) -> None:
    x = clade.dataset.x_test
    with pytest.raises(DataError, match=r"sample shape \(5,\)"):
        clade.predict(np.zeros((3, 5)))
    with pytest.raises(DataError, match="NaN"):
        clade.predict(np.full((2, *x.shape[1:]), np.nan))
    with pytest.raises(DataError, match="sample axis"):
        clade.predict(np.zeros(64))
    with pytest.raises(DataError, match="numeric"):
        clade.predict(np.array([["a"] * 64]))
    # the raw 8x8 images work as well as the flattened rows the model takes
    images = x[:5].reshape(5, 8, 8)
    assert list(clade.predict(images, "best")) == list(clade.predict(x[:5], "best"))


def test_refit_matches_or_beats_the_search_on_test_and_is_recorded(clade, refit_row) -> None:
    best = clade.best(1).iloc[0]
    row = refit_row.iloc[0]
    assert row["model_id"] == f"final-{best['model_id']}"
    assert row["status"] == "ok" and row["source_id"] == best["model_id"]
    assert row["refit_epochs"] == best["best_epoch"] == row["epochs_run"]
    n = clade.dataset
    assert row["train_samples"] == len(n.y_train) + len(n.y_val)
    assert np.isnan(row["val_accuracy"])  # validation was trained on: no validation score
    assert row["test_accuracy"] >= best["test_accuracy"]
    reopened = Clade.open(clade.store.path)
    finals = reopened.final_models()
    assert list(finals["model_id"]) == [row["model_id"]]
    assert row["model_id"] not in set(reopened.phenotypes["model_id"])  # not ranked
    assert reopened.store.model_path(row["model_id"]).exists()
    # predict defaults to the final model once there is one
    x = n.x_test[:30]
    np.testing.assert_allclose(
        reopened.predict_proba(x), reopened.predict_proba(x, row["model_id"]), atol=1e-6
    )


def test_cli_show_formats_and_export_final(clade, refit_row, tmp_path, capsys) -> None:
    folder = str(clade.store.path)
    assert main(["show", folder, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    models = data["models"]
    assert data["kind"] == "GAFC1" and len(models) == 3
    assert [m["role"] for m in models] == ["searched", "searched", "final"]
    assert models[0]["rank"] == 1 and models[0]["model_id"] == clade.best(1)["model_id"][0]
    assert isinstance(models[0]["layers_units"], list)
    assert main(["show", folder, "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(table["model_id"]) == [m["model_id"] for m in models]
    assert table["test_accuracy"].tolist() == pytest.approx([m["test_accuracy"] for m in models])
    assert main(["show", folder, "--format", "table"]) == 0
    assert "final-" in capsys.readouterr().out
    assert main(["show", folder]) == 0
    assert "final models (refit" in capsys.readouterr().out

    out = tmp_path / "final.keras"
    assert main(["export", folder, "--model", "final", "--out", str(out)]) == 0
    info = json.loads(zipfile.ZipFile(out).read(LABELS_MEMBER))
    assert info["model_id"] == refit_row["model_id"].iloc[0]
    assert main(["export", folder, "--model", "nope", "--out", str(out)]) == 2
    assert "nope" in capsys.readouterr().err


def test_summary_ranks_every_model_with_its_genes(clade) -> None:
    table = clade.summary(include_final=False)
    assert list(table["model_id"]) == list(clade.best(10)["model_id"])
    assert {"val_accuracy", "test_accuracy", "learning_rate", "layers_units"} <= set(table)
    assert table["rank"].tolist() == [1, 2]


@pytest.mark.skipif(not HAS_TENSORBOARD, reason="tensorboard is not installed")
def test_tensorboard_scalars_and_hparams_per_model(clade) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util.tensor_util import make_ndarray

    root = clade.store.path / "tensorboard"
    experiment = EventAccumulator(str(root))
    experiment.Reload()
    assert "_hparams_/experiment" in experiment.Tags()["tensors"]
    for _, row in clade.phenotypes.iterrows():
        run = EventAccumulator(str(root / row["model_id"]))
        run.Reload()
        tags = set(run.Tags()["tensors"])
        assert {"epoch/val_accuracy", "batch/loss", "final/test_accuracy"} <= tags
        curve = [make_ndarray(e.tensor_proto).item() for e in run.Tensors("epoch/val_accuracy")]
        epochs = clade.growth(row["model_id"], "epochs")
        assert curve == pytest.approx(epochs["val_accuracy"].tolist())
        start = run.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
        info = plugin_data_pb2.HParamsPluginData.FromString(start).session_start_info
        assert info.hparams["learning_rate"].number_value == pytest.approx(
            clade.genotype(row["model_id"])["learning_rate"]
        )


def test_report_is_one_self_contained_html_file(clade, refit_row, tmp_path, capsys) -> None:
    out = tmp_path / "sub" / "report.html"
    assert main(["report", str(clade.store.path), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    text = out.read_text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert len(sources) == 3 and all(s.startswith("data:image/png;base64,") for s in sources)
    for source in sources:  # each picture is a real PNG
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in text and "https://" not in text and "<script" not in text
    for model_id in [*clade.phenotypes["model_id"], refit_row["model_id"].iloc[0]]:
        assert model_id in text
    assert "confusion matrix of " + clade.best(1)["model_id"].iloc[0] in text


def test_population_table_lists_the_final_models(clade, refit_row) -> None:
    from dlgene_widgets import PopulationTable
    from dlgene_widgets.population_table import FINAL

    table = PopulationTable(clade)
    assert ("final", FINAL) in list(table.generation_picker.options)
    table.generation = FINAL
    final_id = refit_row["model_id"].iloc[0]
    assert list(table.frame["model_id"]) == [final_id]
    assert table.frame["test_accuracy"].iloc[0] == pytest.approx(refit_row["test_accuracy"].iloc[0])
    assert f"data-model-id='{final_id}'" in table.table.value
    table.close()
