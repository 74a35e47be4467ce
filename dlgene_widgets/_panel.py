"""Panel: a VBox that undoes its hooks on the clade (observers, listeners, timers) once.

``Widget.__del__`` calls ``close()`` again after an explicit close, so cleanups must be
idempotent; registering them here keeps each panel's ``close`` to one line.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets


class Panel(widgets.VBox):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._cleanups: list[Callable[[], None]] = []

    def on_close(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` when the panel closes (once)."""
        self._cleanups.append(cleanup)

    def close(self) -> None:
        cleanups, self._cleanups = getattr(self, "_cleanups", []), []
        for cleanup in reversed(cleanups):
            cleanup()
        super().close()
