"""Where a test's kernel is when the test waits too long: every thread's stack on SIGUSR1.

A kernel that runs ``register_source(...)`` first writes all its threads' stacks to a file
each time it gets SIGUSR1 (``faulthandler``, so even a kernel stuck holding the GIL in C
answers). The test side signals the kernel's pid with ``request`` and reads the file with
``read``. The notebook tests and the browser tests' app notebook both use it, so a timeout
in either says where the kernel was instead of only that it was late.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

STACKS_SHOWN = 10_000  # characters of the dump a failure message carries (its end)


def register_source(path_expression: str) -> str:
    """Kernel source (a cell's first lines) that dumps every thread's stack on SIGUSR1 to
    the file ``path_expression`` names (an expression evaluated in the kernel)."""
    return (
        "import faulthandler as _qa_faulthandler, signal as _qa_signal\n"
        f"_qa_stacks = open({path_expression}, 'w')\n"
        "_qa_faulthandler.register(_qa_signal.SIGUSR1, file=_qa_stacks, all_threads=True)\n"
    )


def request(pid: int | str | None) -> str:
    """Signal kernel ``pid`` to write its stacks; '' when sent, else why it was not."""
    if not pid:
        return "(no kernel pid)"
    try:
        os.kill(int(pid), signal.SIGUSR1)
    except OSError as exc:
        return f"(kernel {pid} not signalled: {exc})"
    return ""


def read(path: Path) -> str:
    """The end of the dump at ``path``, or a note that there is none."""
    text = path.read_text() if path.exists() else ""
    return text[-STACKS_SHOWN:] or "(no stack dump)"
