"""Polling for a condition another thread brings about (a timer's flush, a job's end)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, poll: float = 0.02) -> None:
    """Return once ``predicate()`` is true; raise TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not reached in {timeout:g} s")
        time.sleep(poll)
