"""Closing widgets that left a view a while later, not at once.

A front end builds a new widget model asynchronously (it loads the widget's module first) and
only then looks up the models its state refers to. A model closed in that window is gone
when it is looked up: "widget model not found", and the view that needed it (in JupyterLab,
half of the dashboard) shows a JavaScript error instead. Seen in the browser tests about once
in ten openings, when a panel replaced marks or checkboxes while the dashboard was still
being built. Closing late outlives that window and still frees the kernel-side objects.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import ipywidgets as widgets

RETIRE_DELAY_S = 10.0


def close_later(retired: Iterable[widgets.Widget], delay_s: float = RETIRE_DELAY_S) -> None:
    """Close ``retired`` after ``delay_s`` seconds, on a daemon timer thread."""
    doomed = list(retired)
    if not doomed:
        return

    def close_all() -> None:
        for widget in doomed:
            widget.close()

    timer = threading.Timer(delay_s, close_all)
    timer.daemon = True
    timer.start()
