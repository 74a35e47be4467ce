"""Rate-limited flushing: cheap ``request()`` calls from any thread, at most N flushes a second.

Training threads call ``request()`` on every event; it only checks a flag and, at most once
per interval, starts a short timer thread that runs the (expensive) flush. So widget traffic
is bounded by the rate, not by how fast batches arrive, and the training thread never waits
on a widget update.

Panels whose triggers are rare (a few per model: status, table, picker) pass
``sync_on_main_thread=when_idle(clade)``: a change made on the kernel's main thread (a cell
calling ``select_parents`` or ``breed``) is shown at once and leaves no timer thread behind;
while the clade trains (a cell running ``grow_models`` in the kernel's own thread) they are
rate-limited like any other, or every finished model would redraw every panel.

A ``cpu_share`` bounds what the rate-limited flushes take of one core: after a flush that
took ``c`` seconds of CPU, the next waits at least ``c / cpu_share`` (at most
``MAX_SHARE_WAIT`` s). A panel whose redraw grows with the run (a grid of 1,000 rows) then
redraws less often instead of taking more of training.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("dlgene_widgets")

TRAINING = ("growing", "evolving", "seeding", "refitting")  # clade statuses that train
MAX_SHARE_WAIT = 10.0  # seconds: a cpu_share never delays a redraw longer than this


def when_idle(clade: Any) -> Callable[[], bool]:
    """True while ``clade`` is not training: main-thread changes may then flush at once."""
    return lambda: clade.status not in TRAINING


class Throttle:
    """Run ``flush`` at most ``max_rate_hz`` times a second, soon after a ``request()``."""

    def __init__(
        self,
        flush: Callable[[], None],
        max_rate_hz: float,
        name: str = "flush",
        sync_on_main_thread: bool | Callable[[], bool] = False,
    ):
        if not max_rate_hz > 0:
            raise ValueError(f"max_rate_hz={max_rate_hz!r}; allowed: a rate > 0 (updates/s)")
        self._flush = flush
        self.interval = 1.0 / float(max_rate_hz)
        self.name = name
        self.sync_on_main_thread = sync_on_main_thread
        self._cpu_share: float | None = None
        self.last_cost = 0.0  # CPU seconds of the last flush
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._flushing: int | None = None  # the thread running a flush now
        self._last = -float("inf")
        self._closed = False
        self.flushes = 0
        self.busy_seconds = 0.0  # CPU time spent flushing: the panel's kernel-side cost
        self.last_error: BaseException | None = None

    @property
    def cpu_share(self) -> float | None:
        """The most of one core rate-limited flushes may take (None: only the rate)."""
        return self._cpu_share

    @cpu_share.setter
    def cpu_share(self, share: float | None) -> None:
        if share is not None and not 0 < share <= 1:
            raise ValueError(f"cpu_share={share!r}; allowed: None or a share in (0, 1]")
        self._cpu_share = None if share is None else float(share)

    def gap(self) -> float:
        """Seconds from one rate-limited flush to the next: the rate's interval, or longer
        when the last flush's CPU time would exceed ``cpu_share``."""
        if self._cpu_share is None:
            return self.interval
        wanted = self.last_cost / self._cpu_share
        return max(self.interval, min(wanted, MAX_SHARE_WAIT))

    def request(self) -> None:
        """Ask for a flush; returns at once (a no-op while one is already scheduled)."""
        if self._closed:
            return
        on_main = threading.current_thread() is threading.main_thread()
        if on_main and self._sync_now() and not self._inside_own_flush():
            self.flush_now()  # (a flush that asks for another is scheduled, not nested)
            return
        if self._timer is not None:
            return
        with self._lock:
            if self._timer is not None or self._closed:
                return
            self._new_timer(max(0.0, self._last + self.gap() - time.monotonic()))

    def flush_now(self) -> None:
        """Flush synchronously on the calling thread (tests, end of a job); a pending timer
        is cancelled and its thread joined, so nothing is left running."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            if timer is not threading.current_thread():
                timer.join()
        self._run()

    def flush_pending(self) -> None:
        """Bring a waiting flush forward to now (training paused or ended: show its state).
        On the kernel's main thread (a grow run in a cell) it runs there, as idle requests
        do; from any other thread it runs on its own timer thread, so a training thread
        inside a trait notification never waits for a redraw or for the locks it takes."""
        if self._timer is None:
            return
        if threading.current_thread() is threading.main_thread():
            if not self._inside_own_flush():
                self.flush_now()
            return
        with self._lock:
            waiting = self._timer
            if waiting is None or self._closed:
                return
            waiting.cancel()
            self._new_timer(0.0, brought_forward=True)

    def _new_timer(self, delay: float, brought_forward: bool = False) -> None:
        """Start a daemon timer for ``_run_scheduled`` and record it as the pending one
        (hold _lock). Started before it is recorded: ``flush_now`` on another thread joins
        the pending timer, and joining one not yet started raises. ``brought_forward``:
        flush_pending's timer, which does not wait out the gap."""
        timer = threading.Timer(delay, self._run_scheduled, args=(brought_forward,))
        timer.daemon = True
        timer.name = f"dlgene-{self.name}"
        timer.start()
        self._timer = timer

    def _inside_own_flush(self) -> bool:
        """Called from this throttle's running flush: flushing again here would deadlock
        (the flush lock is not re-entrant)."""
        return self._flushing == threading.get_ident()

    def _sync_now(self) -> bool:
        rule = self.sync_on_main_thread
        return bool(rule() if callable(rule) else rule)

    def close(self) -> None:
        """Cancel any pending flush; later requests are ignored."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _run_scheduled(self, brought_forward: bool) -> None:
        me = threading.current_thread()
        with self._run_lock:  # a flush still running when this timer was armed ends first
            with self._lock:
                if self._timer is me and not brought_forward:
                    # that flush's cost was not known when this timer was armed: wait out
                    # the rest of its gap (a costly redraw must not run twice in a row)
                    wait = self._last + self.gap() - time.monotonic()
                    if wait > 0.001 and not self._closed:
                        self._new_timer(wait)
                        return
                if self._timer is me:  # (a cancelled timer must not forget its successor)
                    self._timer = None
            self._run_locked()

    def _run(self) -> None:
        with self._run_lock:
            self._run_locked()

    def _run_locked(self) -> None:
        self._flushing = threading.get_ident()
        self._last = time.monotonic()
        started = time.thread_time()  # CPU, not wall: waiting for the GIL is not our cost
        try:
            self._flush()
        except Exception as exc:  # a timer thread has nobody to raise to: log and keep it
            self.last_error = exc
            log.exception("dlgene_widgets: %s failed", self.name)
        finally:
            self._flushing = None
            self.flushes += 1
            self.last_cost = time.thread_time() - started
            self.busy_seconds += self.last_cost
