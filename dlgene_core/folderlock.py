"""One writer per experiment folder.

Two processes growing one folder would both train every model and overwrite each other's
tables. A writer (``Clade(...)``, ``Clade.open(folder)``, the CLI's evolve / resume) holds
an exclusive ``filelock`` on ``<folder>/.dlgene.lock``; the kernel releases it when the
process ends, however it ends, so a lock left by a dead process is simply taken over.
Who holds it (pid, since) is written beside it, in ``.dlgene.owner``, for the message a
second writer gets. Within one process, clades of the same folder share the lock (a
notebook and its dashboard are one writer); it is released when the last one closes.
Read-only use (``Clade.open(folder, read_only=True)``, ``dlgene show``) takes no lock.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import json
import os
import threading
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import CladeStateError

LOCK_NAME = ".dlgene.lock"
OWNER_NAME = ".dlgene.owner"


class FolderInUseError(CladeStateError):
    """Another process is writing to the folder."""


class _Held:
    def __init__(self, lock: FileLock):
        self.lock, self.count = lock, 0


_HELD: dict[str, _Held] = {}
_GUARD = threading.Lock()


def _key(folder: Path) -> str:
    return str(folder.resolve())


def owner(folder: Path) -> dict:
    """The last writer's pid and start time (may be stale: the lock itself is the truth)."""
    try:
        return json.loads((folder / OWNER_NAME).read_text())
    except (OSError, ValueError):
        return {}


def acquire(folder: str | os.PathLike) -> None:
    """Take the folder's writer lock at once or raise FolderInUseError naming the holder."""
    folder = Path(folder)
    with _GUARD:
        held = _HELD.get(_key(folder))
        if held is None:
            lock = FileLock(str(folder / LOCK_NAME))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                info = owner(folder)
                raise FolderInUseError(
                    f"folder {str(folder)!r} in use by pid {info.get('pid', '?')} since "
                    f"{info.get('since', '?')}: one writer per folder. Wait for it to end, "
                    "or look without writing: Clade.open(folder, read_only=True) or "
                    "`dlgene show FOLDER`"
                ) from None
            since = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            # advisory (for the message a second writer gets): a full disk must not stop it
            with contextlib.suppress(OSError):
                (folder / OWNER_NAME).write_text(json.dumps({"pid": os.getpid(), "since": since}))
            held = _HELD[_key(folder)] = _Held(lock)
        held.count += 1


def release(folder: str | os.PathLike) -> None:
    """Drop one hold; the lock is freed when the process's last clade of the folder closes."""
    with _GUARD:
        key = _key(Path(folder))
        held = _HELD.get(key)
        if held is None:
            return
        held.count -= 1
        if held.count <= 0:
            del _HELD[key]
            held.lock.release(force=True)


def holds(folder: str | os.PathLike) -> bool:
    return _key(Path(folder)) in _HELD


@atexit.register
def _release_all() -> None:
    with _GUARD:
        for held in _HELD.values():
            held.lock.release(force=True)
        _HELD.clear()
