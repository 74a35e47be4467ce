"""Loading model files from a run folder, which is untrusted input.

A Lambda layer (or any custom object) in a ``.h5`` / ``.keras`` file carries Python
bytecode; Keras runs it only with ``safe_mode=False``. dlgene always loads with
``safe_mode=True`` (honoured for ``.h5`` since Keras 3.11.3, CVE-2025-9905) and turns the
refusal into an error that names the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UnsafeModelError


def load_model_safely(path: str | os.PathLike, compile: bool = False):
    """``keras.models.load_model`` with safe mode on; a file that needs unsafe
    deserialisation (Lambda layers, pickled functions) raises :class:`UnsafeModelError`."""
    import keras

    try:
        return keras.models.load_model(Path(path), compile=compile, safe_mode=True)
    except (ValueError, TypeError) as exc:
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text or "arbitrary code" in text:
            raise UnsafeModelError(
                f"model file {str(path)!r} was refused: it holds code (a Lambda layer or "
                "another serialised Python function) that would run when loaded; dlgene "
                "loads models with safe_mode=True only. dlgene never writes such layers, so "
                "the file did not come from a dlgene run"
            ) from None
        raise


def save_h5_quietly(model, path: str | os.PathLike) -> None:
    """``model.save`` to .h5 without Keras' "HDF5 is legacy" warning: .h5 is the format
    dlgene chose (see trainer._h5_bytes), so the warning says nothing to the user."""
    import logging

    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        model.save(path)
    finally:
        absl.setLevel(level)
