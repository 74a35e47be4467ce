"""Issue 11 with real processes and a real disk: one writer per folder (14), a full disk
(12), quiet output and Ctrl-C (15), and README's first snippet offline (17)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_hardening import TINY

from dlgene_core import GAFC1, Clade
from dlgene_core.check import check_folder
from dlgene_core.cli import main
from dlgene_core.folderlock import OWNER_NAME, FolderInUseError
from dlgene_core.storage import FolderWriteError

REPO = Path(__file__).resolve().parents[1]
TINY_SETS = [
    *("--set", "population_size=2", "--set", "epochs=1,1", "--set", "nb_layers=1,1"),
    *("--set", "nb_units=2,4", "--set", "batch_size=32,64", "--set", "optimizers=adam"),
    *("--set", "lr_bins=[[0.001,0.01]]", "--set", "generations=1"),
]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "dlgene_core.cli", *args]


# A process started in the background by a shell without job control (nohup ... &, many CI
# runners) inherits SIGINT ignored, and Python then keeps it ignored: Ctrl-C would never
# reach the CLI. The Ctrl-C test starts the CLI with Python's own handler, as a terminal has.
WITH_CTRL_C = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'dlgene'; runpy.run_module('dlgene_core.cli', run_name='__main__')"
)


def _wait_for(predicate, timeout: float, what: str, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process ended first: {proc.stderr.read()[-2000:]}")
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)


# ---------------------------------------------------------------------- 14: one writer
@pytest.mark.slow
def test_two_writers_one_folder(tmp_path, capsys) -> None:
    folder = tmp_path / "run"
    GAFC1(TINY.updated(population_size=4, epochs=(400, 400)), data="wine", folder=folder).close()
    first = subprocess.Popen(
        _cli("resume", str(folder), "--quiet"),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        owner = folder / OWNER_NAME

        def first_holds() -> bool:
            try:
                return json.loads(owner.read_text())["pid"] == first.pid
            except (OSError, ValueError, KeyError):
                return False

        _wait_for(first_holds, 60, "the first resume takes the lock", first)
        second = subprocess.run(
            _cli("resume", str(folder), "--quiet"),
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2, second.stderr
        assert f"folder {str(folder)!r} in use by pid {first.pid} since" in second.stderr
        assert "Traceback" not in second.stderr
        shown = subprocess.run(  # read-only use needs no lock
            _cli("show", str(folder)), env=_env(), capture_output=True, text=True, timeout=120
        )
        assert shown.returncode == 0, shown.stderr
        with pytest.raises(FolderInUseError, match=f"in use by pid {first.pid}"):
            Clade.open(folder)
        assert len(Clade.open(folder, read_only=True).genotypes) in (0, 4)
        assert first.poll() is None  # the first writer was not disturbed
    finally:
        first.send_signal(signal.SIGKILL)  # dies holding the lock
        first.wait(timeout=60)
        first.stderr.close()
    taken = Clade.open(folder)  # the dead process's lock is taken over
    assert json.loads((folder / OWNER_NAME).read_text())["pid"] == os.getpid()
    taken.close()


def test_second_writer_in_another_process_is_refused_at_once(tmp_path) -> None:
    """Fast variant without TensorFlow: a holder process, then Clade.open here."""
    folder = tmp_path / "run"
    GAFC1(TINY, data="wine", folder=folder).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom dlgene_core import Clade\n"
            "c = Clade.open(sys.argv[1]); print('held', flush=True); time.sleep(300)",
            str(folder),
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(FolderInUseError) as info:
            Clade.open(folder)
        assert time.monotonic() - started < 2
        assert f"in use by pid {holder.pid} since 20" in str(info.value)
        with GAFC1(TINY, data="wine", folder=tmp_path / "other") as mine:
            Clade.open(mine.store.path).close()  # same process: the lock is shared
            assert mine.store.read_only is False
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with Clade.open(folder) as clade:
        assert clade.store.read_only is False
    assert clade.store.read_only is True  # closed: no more writes through it


# ---------------------------------------------------------------------- 12: disk full
def _no_tmp(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp" in p.name]


def test_enospc_while_a_model_is_written_loses_nothing(tmp_path, monkeypatch) -> None:
    """ENOSPC injected half-way into a model file: a clean error, no .tmp, the model is not
    committed, and the next grow trains it."""
    from dlgene_core import storage

    folder = tmp_path / "run"
    clade = GAFC1(TINY, data="wine", folder=folder)
    clade.spawn()
    real = storage.atomic_write_bytes
    failed: list[Path] = []

    def full_disk(path: Path, data: bytes) -> None:
        if path.suffix != ".h5" or failed:
            return real(path, data)
        failed.append(path)

        def write(tmp: Path) -> None:
            tmp.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        storage._write_via_tmp(path, write)

    monkeypatch.setattr(storage, "atomic_write_bytes", full_disk)
    with pytest.raises(FolderWriteError) as info:
        clade.grow_models()
    assert str(failed[0]) in str(info.value) and "No space left on device" in str(info.value)
    assert "dlgene resume" in str(info.value)
    assert _no_tmp(folder) == []
    assert not (folder / "phenotypes.parquet").exists()  # nothing half-committed
    monkeypatch.setattr(storage, "atomic_write_bytes", real)
    again = Clade.open(folder)
    again.grow_models()
    assert sorted(again.phenotypes["model_id"]) == ["g0-000", "g0-001"]
    assert not check_folder(folder).damaged
    clade.close()
    again.close()


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs (root only, as in CI)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the ENOSPC injection test covers this")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@pytest.mark.slow
def test_full_tmpfs_clean_error_then_resume(small_disk, capsys) -> None:
    folder = small_disk / "run"
    out = ["--out", str(folder), "--quiet", *TINY_SETS]
    assert main(["evolve", "--data", "wine", *out]) == 0
    before = pd.read_parquet(folder / "phenotypes.parquet")
    filler = _fill(small_disk)
    capsys.readouterr()
    assert main(["resume", str(folder), "--generations", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and str(folder) in err and "Traceback" not in err
    assert _no_tmp(folder) == []
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "phenotypes.parquet"), before)
    filler.unlink()  # space is back
    assert main(["resume", str(folder), "--generations", "2", "--quiet"]) == 0
    after = pd.read_parquet(folder / "phenotypes.parquet")
    assert sorted(after["generation"]) == [0, 0, 1, 1]
    assert not check_folder(folder).damaged


# ---------------------------------------------------------------------- 15: quiet, Ctrl-C
NOISE = ("absl", "oneDNN", "cuInit", "cuda", "NodeDef", "retracing", "HDF5", "I0000", "E0000")


@pytest.mark.slow
def test_cli_prints_only_dlgene_lines_and_verbose_brings_tf_back(tmp_path) -> None:
    run = subprocess.run(
        _cli("evolve", "--data", "wine", "--out", str(tmp_path / "q"), *TINY_SETS),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    pieces = [p.strip() for p in run.stderr.replace("\r", "\n").splitlines() if p.strip()]
    assert pieces, "the progress bar and the data line are expected"
    strange = [p for p in pieces if not p.startswith(("dlgene:", "gen "))]
    assert strange == [], strange
    assert not [word for word in NOISE if word in run.stderr + run.stdout]
    assert "1 generation (0), 2 models recorded" in run.stdout
    verbose = subprocess.run(
        _cli("evolve", "--data", "wine", "--out", str(tmp_path / "v"), "--verbose", *TINY_SETS),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert verbose.returncode == 0, verbose.stderr
    assert "oneDNN" in verbose.stderr or "I0000" in verbose.stderr


@pytest.mark.slow
def test_ctrl_c_exits_130_and_keeps_finished_models(tmp_path) -> None:
    folder = tmp_path / "run"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-c", WITH_CTRL_C),
            *("evolve", "--data", "wine", "--out", str(folder), *TINY_SETS),
            *("--set", "population_size=8", "--set", "epochs=300,300"),
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for((folder / "genotypes.parquet").exists, 120, "spawned", proc)
        time.sleep(4)  # into TensorFlow's import or the first model's training
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not check_folder(folder).damaged


# ---------------------------------------------------------------------- 17: README offline
def readme_first_snippet() -> str:
    """The first Python block of README.md, as a new user would paste it."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = text.index("```python\n") + len("```python\n")
    return text[start : text.index("```", start)]


@pytest.mark.slow
def test_readme_first_snippet_runs_offline(tmp_path) -> None:
    dead = "http://127.0.0.1:9"  # any download would fail: nothing listens there
    env = {**_env(), "http_proxy": dead, "https_proxy": dead, "HTTP_PROXY": dead}
    env.update(HTTPS_PROXY=dead, no_proxy="", NO_PROXY="", DLGENE_DATA_DIR="")
    env["KERAS_HOME"] = str(tmp_path / "keras-home")  # no cached Keras data sets either
    done = subprocess.run(
        [sys.executable, "-c", readme_first_snippet()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "val_accuracy" in done.stdout and ("g0-" in done.stdout or "g1-" in done.stdout)
    assert len(pd.read_parquet(tmp_path / "runs/digits/phenotypes.parquet")) == 8
    shutil.rmtree(tmp_path / "runs")
