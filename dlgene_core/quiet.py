"""Quiet output: a dlgene run prints dlgene's lines, not TensorFlow's start-up chatter.

TensorFlow's C++ logs (absl, oneDNN, CUDA-driver probes, ``cuInit``, ``NodeDef mentions
attribute``) are written while TensorFlow is imported, so their level must be in the
environment before that import, in the CLI and in every worker process (which inherit the
environment). Python-side messages (tf.function retracing, Keras' HDF5-legacy warning) go
through the ``tensorflow`` / ``absl`` loggers and ``warnings``; :func:`quiet_python_logs`
silences them in each process that trains. ``verbose`` brings all of it back.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import threading
import warnings

QUIET_ENV = "DLGENE_QUIET"  # "1": workers silence Python-side TF logs too


def quiet_environment(verbose: bool) -> None:
    """Set TensorFlow's log levels in the environment (before TensorFlow is imported)."""
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        os.environ[QUIET_ENV] = "0"
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # errors too: cuInit's "E" line on every CPU run
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ[QUIET_ENV] = "1"
    quiet_python_logs()


def quiet_python_logs() -> None:
    """Silence TensorFlow's and Keras' Python-side warnings in this process."""
    for name in ("tensorflow", "absl", "keras", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in ("tensorflow", "keras", "absl", "h5py", "google"):
        warnings.filterwarnings("ignore", module=module)


def quiet_if_asked() -> None:
    """In a worker: follow the parent's choice (inherited through the environment)."""
    if os.environ.get(QUIET_ENV) == "1":
        quiet_python_logs()


# C++ log lines (absl / TSL format: "I0000 00:00:17.123 4792 port.cc:153] ...") and the
# lines that come with them; written to fd 2 before absl::InitializeLog, so no environment
# variable of TensorFlow 2.21 silences them: the CLI filters them out of fd 2 instead
NATIVE_NOISE = re.compile(
    r"^(?:[IWE]\d{4} \d+:\d+:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|To enable the following instructions:"
    r"|WARNING: All log messages before absl)"
)


def filter_native_stderr() -> None:
    """Route file descriptor 2 (where TensorFlow's C++ code and worker processes write)
    through a thread that drops TensorFlow's log lines; Python's ``sys.stderr`` keeps
    writing straight to the terminal, so dlgene's own lines and the progress bar are never
    delayed. For the CLI process only (not for a library caller's process)."""
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = io.TextIOWrapper(
        io.FileIO(terminal, "w", closefd=False), line_buffering=True, write_through=True
    )

    def pump() -> None:
        pending = b""
        while chunk := os.read(read_end, 65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = [ln for ln in lines if not NATIVE_NOISE.match(ln.decode(errors="replace"))]
            if kept:
                os.write(terminal, b"\n".join(kept) + b"\n")
        if pending and not NATIVE_NOISE.match(pending.decode(errors="replace")):
            os.write(terminal, pending)

    threading.Thread(target=pump, name="dlgene-stderr-filter", daemon=True).start()
