"""Panel: a VBox that undoes its hooks on the clade (observers, listeners, timers) once.

``Widget.__del__`` calls ``close()`` again after an explicit close, so cleanups must be
idempotent; registering them here keeps each panel's ``close`` to one line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import ipywidgets as widgets
from traitlets import Bool, observe


class Panel(widgets.VBox):
    active = Bool(True, help="follow the clade as it changes (False: catch up once shown)")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._cleanups: list[Callable[[], None]] = []
        self._setting_itself = False
        self._stale = False

    def follow(self, clade, names: list[str], rate_hz: float, name: str) -> None:
        """Refresh (through a throttle named ``name``) when ``names`` of the clade change;
        undone on close."""
        from ._throttle import Throttle, when_idle

        self._throttle = Throttle(
            self.refresh, rate_hz, name=name, sync_on_main_thread=when_idle(clade)
        )

        def changed(_change) -> None:
            self.request_refresh()

        clade.observe(changed, names=names)
        self.on_close(lambda: clade.unobserve(changed, names=names))
        self.on_close(self._throttle.close)

    def request_refresh(self) -> None:
        """Ask the panel's throttle for a refresh; a panel not on screen (a hidden tab) only
        notes that it is behind and catches up when it becomes ``active``: on 2 cores its
        redraws would come out of training."""
        if self.active:
            self._throttle.request()
        else:
            self._stale = True

    @observe("active")
    def _on_active(self, change) -> None:
        if change["new"] and self._stale and hasattr(self, "_throttle"):
            self._stale = False
            self._throttle.request()

    @contextlib.contextmanager
    def setting_itself(self) -> Iterator[None]:
        """Trait changes made inside are the panel's own (following the data), not a
        person's pick: observers read ``picked_by_hand`` to tell the two apart."""
        before, self._setting_itself = self._setting_itself, True
        try:
            yield
        finally:
            self._setting_itself = before

    @property
    def picked_by_hand(self) -> bool:
        return not self._setting_itself

    def on_close(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` when the panel closes (once)."""
        self._cleanups.append(cleanup)

    def close(self) -> None:
        cleanups, self._cleanups = getattr(self, "_cleanups", []), []
        for cleanup in reversed(cleanups):
            cleanup()
        super().close()
