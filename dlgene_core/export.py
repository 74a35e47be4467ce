"""Taking models out of a clade: compiled best models, ``.keras`` export with labels, predict.

The folder keeps legacy ``.h5`` files (what the search writes); the way out is the native
Keras 3 ``.keras`` archive, loadable with plain ``keras.saving.load_model(path)`` in safe
mode, with no dlgene import and no custom objects. The model inside outputs class
probabilities (its preprocessing, a Normalization layer for numeric inputs, is part of the
model). The class labels the user gave travel in the same zip file as an extra member,
``dlgene.json``, which Keras ignores on load: read it with :func:`load_labels` or with
the standard library::

    import json, zipfile
    labels = json.loads(zipfile.ZipFile("model.keras").read("dlgene.json"))["classes"]
    predicted = [labels[i] for i in model.predict(x).argmax(axis=1)]

Keras 3 has no built-in argmax or index-to-label layer usable after a softmax without a
Lambda layer (which safe mode refuses), so the labels ride beside the graph, not in it.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import CladeStateError, DataError

if TYPE_CHECKING:
    import keras

    from .clade import Clade

LABELS_MEMBER = "dlgene.json"
FINAL_PREFIX = "final-"


# ---------------------------------------------------------------------- which model
def resolve_model_id(clade: Clade, model_id: str = "best") -> str:
    """``best`` (by the selection metric), ``final`` (the latest refit) or a model id."""
    if model_id == "best":
        best = clade.best(1)
        if best.empty:
            raise CladeStateError("model_id='best': the clade has no finished usable models yet")
        return str(best["model_id"].iloc[0])
    if model_id == "final":
        finals = clade.final_models()
        if not finals.empty:
            finals = finals[finals["status"].isin(("ok", "timed_out"))]
        if finals.empty:
            raise CladeStateError(
                "model_id='final': no final model in this folder; call clade.refit() first"
            )
        return str(finals["model_id"].iloc[-1])
    if not clade.store.model_path(model_id).exists():
        raise KeyError(
            f"model_id {model_id!r}: no trained model file in {clade.store.path}; "
            "allowed: 'best', 'final' or the id of a grown (or refit) model"
        )
    return model_id


def source_id(model_id: str) -> str:
    """The searched model a final model was refit from (its genotype's id)."""
    return model_id[len(FINAL_PREFIX) :] if model_id.startswith(FINAL_PREFIX) else model_id


def load_compiled(clade: Clade, model_id: str = "best") -> keras.Model:
    """A trained model from its .h5 file, compiled with its genotype's optimizer and loss."""
    import keras

    from .modelbuild import compile_model

    model_id = resolve_model_id(clade, model_id)
    path = clade.store.model_path(model_id)
    model = keras.models.load_model(path, compile=False, safe_mode=True)
    genotype = clade.genotype(source_id(model_id))
    return compile_model(model, genotype, clade.config.final_activation)


def best_models(clade: Clade, n: int = 1) -> list[keras.Model]:
    """The ``n`` best models by the selection metric, compiled, best first."""
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"best_models: n={n!r}; allowed: an integer >= 1")
    ids = list(clade.best(int(n))["model_id"])
    return [load_compiled(clade, mid) for mid in ids]


# ---------------------------------------------------------------------- export
def export_model(clade: Clade, model_id: str = "best", path: str | os.PathLike = "") -> Path:
    """Write one model as a self-contained ``.keras`` file carrying its class labels."""
    target = Path(path) if str(path) else None
    if target is None or target.suffix != ".keras":
        raise ValueError(f"export: path={str(path)!r}; allowed: a file name ending in .keras")
    model_id = resolve_model_id(clade, model_id)
    model = load_compiled(clade, model_id)
    dataset = clade._need_data()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.keras")
    model.save(tmp)
    info = {
        "classes": [_plain(c) for c in dataset.classes],
        "class_names": [str(c) for c in dataset.class_names],
        "model_id": model_id,
        "kind": clade.config.kind,
        "data": dataset.name,
        "form": dataset.form,
        "input_shape": list(dataset.input_shape),
        "output": "logits" if clade.config.final_activation == "linear" else "probabilities",
    }
    with zipfile.ZipFile(tmp, "a") as archive:
        archive.writestr(LABELS_MEMBER, json.dumps(info, indent=2))
    os.replace(tmp, target)
    return target


def load_labels(path: str | os.PathLike) -> list[Any]:
    """The class labels stored in an exported ``.keras`` file (index -> label)."""
    return read_export_info(path)["classes"]


def read_export_info(path: str | os.PathLike) -> dict[str, Any]:
    """Everything dlgene stored beside the model in an exported ``.keras`` file."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(LABELS_MEMBER))
    except KeyError as exc:
        raise DataError(f"{str(path)!r} has no {LABELS_MEMBER}: not exported by dlgene") from exc


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so labels survive JSON as the user gave them."""
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------- predict
def check_features(x: Any, model: keras.Model, form: str) -> np.ndarray:
    """The checks training data gets, for x alone, then shaped the way the model takes it."""
    from .data import shape_for_form

    x = np.asarray(x)
    if x.ndim < 2:
        raise DataError(
            f"predict: x must have a sample axis and at least one feature axis, got shape {x.shape}"
        )
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"predict: x must be numeric, got dtype {x.dtype}")
    if len(x) == 0:
        raise DataError("predict: x has no samples")
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise DataError(f"predict: x holds {bad} NaN or infinite values")
    shaped = shape_for_form(x, form, "predict")
    expected = tuple(int(d) for d in model.input_shape[1:])
    if shaped.shape[1:] != expected:
        raise DataError(
            f"predict: x has sample shape {x.shape[1:]}; the model takes {expected} "
            f"(the training data's shape, form {form!r})"
        )
    return shaped


def predict_proba(clade: Clade, x: Any, model_id: str | None = None) -> np.ndarray:
    """Class probabilities, columns in class-index order (``clade.classes``)."""
    model = load_compiled(clade, default_model_id(clade, model_id))
    shaped = check_features(x, model, clade.data_spec.form)
    out = np.asarray(model.predict(shaped, batch_size=256, verbose=0), dtype=np.float64)
    if clade.config.final_activation == "linear":  # logits
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    return out


def predict(clade: Clade, x: Any, model_id: str | None = None) -> np.ndarray:
    """Predicted labels, as the user gave them (``Dataset.classes``)."""
    probs = predict_proba(clade, x, model_id)
    classes = np.asarray(clade._need_data().classes)
    return classes[probs.argmax(axis=1)]


def default_model_id(clade: Clade, model_id: str | None) -> str:
    """None means the latest final model when there is one, else the best searched one."""
    if model_id is not None:
        return model_id
    return "final" if not clade.final_models().empty else "best"
