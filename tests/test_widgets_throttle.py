"""Throttle: bounded flush rate from busy threads, nothing left running afterwards."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from wait_helpers import wait_for

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


def _spin(seconds: float) -> None:
    """Burn CPU (thread time, which is what a cpu_share counts)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_cpu_share_spaces_costly_flushes_and_pending_ones_can_be_flushed_now():
    calls, threads = [], []

    def flush():
        calls.append(time.monotonic())
        threads.append(threading.current_thread().name)
        _spin(0.01)

    throttle = Throttle(flush, max_rate_hz=100, name="share")
    throttle.cpu_share = 0.05  # 10 ms of CPU a flush: at most one every 0.2 s
    assert throttle.gap() == 0.01  # nothing measured yet: the rate's interval

    def train():
        end = time.monotonic() + 0.7
        while time.monotonic() < end:
            throttle.request()
            time.sleep(0.001)

    worker = threading.Thread(target=train)
    worker.start()
    worker.join()
    assert throttle.gap() == pytest.approx(throttle.last_cost / 0.05)
    assert 0.19 <= throttle.gap() <= 10.0
    assert 2 <= len(calls) <= 5, calls  # 100 Hz would have been ~60
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert all(g >= 0.18 for g in gaps), gaps
    time.sleep(throttle.gap())
    throttle.request()  # waits ~0.2 s for its turn ...
    before, asked = len(calls), time.monotonic()
    ender = threading.Thread(target=throttle.flush_pending, name="training")
    ender.start()  # ... unless training ended: then it is shown at once, on its own
    ender.join()  # thread (the training thread never waits for a redraw)
    wait_for(lambda: len(calls) == before + 1, timeout=2.0, poll=0.005)
    assert calls[-1] - asked < 0.1  # not ~0.2 s later
    assert threads[-1] == "dlgene-share"
    time.sleep(throttle.gap() + 0.05)
    assert len(calls) == before + 1  # the cancelled timer did not flush as well
    throttle.flush_pending()  # nothing pending: no flush
    time.sleep(0.05)
    assert len(calls) == before + 1
    throttle.flush_now()
    throttle.request()  # its turn is ~0.2 s away
    throttle.flush_pending()  # on the kernel's main thread (a grow in a cell): right here
    assert len(calls) == before + 3 and threads[-2:] == ["MainThread", "MainThread"]
    assert not [t for t in threading.enumerate() if t.name == "dlgene-share"]


def test_a_flush_that_asks_for_another_on_the_main_thread_schedules_it():
    """A main-thread request while idle flushes at once, but one made by the flush itself
    (the live plot asks for one more to empty replaced lines) must not nest: the flush lock
    is not re-entrant and the kernel's main thread would hang."""
    calls = []
    throttle = Throttle(lambda: None, max_rate_hz=20, name="nested", sync_on_main_thread=True)

    def flush():
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            throttle.request()

    throttle._flush = flush
    throttle.request()
    assert calls == ["MainThread"]
    wait_for(lambda: len(calls) == 2, timeout=2.0, poll=0.005)
    assert calls == ["MainThread", "dlgene-nested"]


def test_a_cpu_share_never_waits_longer_than_its_cap_and_bad_shares_are_refused():
    from dlgene_widgets._throttle import MAX_SHARE_WAIT

    throttle = Throttle(lambda: _spin(0.02), max_rate_hz=10, name="cap")
    throttle.cpu_share = 0.0001
    throttle.flush_now()
    assert throttle.gap() == MAX_SHARE_WAIT
    throttle.cpu_share = None
    assert throttle.gap() == 0.1
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"cpu_share=.*allowed"):
            throttle.cpu_share = bad


def test_a_timer_is_started_before_another_thread_can_join_it(monkeypatch):
    """``flush_now`` joins the pending timer; a request that recorded its timer before
    starting it let a job's end (another thread) join a thread not yet started, which
    raises and cut the clade's status notification short (the dashboard hung 'growing')."""

    class SlowToStart(threading.Timer):
        def start(self) -> None:
            time.sleep(0.2)  # a busy machine: the thread starts late
            super().start()

    monkeypatch.setattr("dlgene_widgets._throttle.threading.Timer", SlowToStart)
    calls = []
    throttle = Throttle(lambda: calls.append(1), max_rate_hz=1, name="late")
    throttle.flush_now()  # the next request must wait its turn: a timer
    asker = threading.Thread(target=throttle.request)
    asker.start()
    time.sleep(0.05)  # the request is starting its timer
    throttle.flush_now()  # raised RuntimeError("cannot join thread before it is started")
    asker.join()
    assert len(calls) == 2 and throttle._timer is None
