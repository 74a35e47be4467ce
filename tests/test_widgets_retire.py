"""close_later: widgets that left a view stay open for a while, then are closed."""

from __future__ import annotations

import time

import ipywidgets as widgets

from dlgene_widgets._retire import close_later


def test_retired_widgets_stay_open_then_close() -> None:
    boxes = [widgets.Checkbox() for _ in range(3)]
    close_later(iter(boxes), delay_s=0.3)
    assert all(box.comm is not None for box in boxes)  # still there for a late lookup
    deadline = time.monotonic() + 10
    while any(box.comm is not None for box in boxes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [box.comm for box in boxes] == [None, None, None]


def test_nothing_to_retire_starts_no_timer() -> None:
    import threading

    before = threading.active_count()
    close_later([], delay_s=0.3)
    assert threading.active_count() == before
