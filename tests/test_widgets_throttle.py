"""Throttle: bounded flush rate from busy threads, nothing left running afterwards."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from dlgene_widgets._throttle import Throttle


def test_requests_from_a_busy_thread_are_rate_limited():
    calls = []
    throttle = Throttle(lambda: calls.append(time.monotonic()), max_rate_hz=20, name="t")

    def train():
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            throttle.request()

    worker = threading.Thread(target=train)
    worker.start()
    worker.join()
    throttle.flush_now()
    assert 3 <= len(calls) <= 0.5 * 20 + 3
    gaps = [b - a for a, b in itertools.pairwise(calls[:-1])]  # the last one was forced
    assert all(g >= 0.045 for g in gaps), gaps
    assert not [t for t in threading.enumerate() if t.name == "dlgene-t"]


def test_main_thread_requests_flush_at_once_when_asked():
    calls = []
    throttle = Throttle(lambda: calls.append(1), 1.0, name="m", sync_on_main_thread=True)
    throttle.request()
    throttle.request()
    assert calls == [1, 1]
    assert not [t for t in threading.enumerate() if t.name == "dlgene-m"]


def test_errors_are_kept_and_bad_rates_refused():
    def boom():
        raise RuntimeError("bad flush")

    throttle = Throttle(boom, 10, name="e")
    throttle.flush_now()
    assert isinstance(throttle.last_error, RuntimeError)
    with pytest.raises(ValueError, match="max_rate_hz"):
        Throttle(boom, 0)
