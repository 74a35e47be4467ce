"""The stack-dump helper the notebook and browser tests rely on to explain a timeout."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import kernel_stacks


def test_a_signalled_process_writes_every_threads_stack(tmp_path: Path) -> None:
    dump = tmp_path / "stacks.txt"
    source = kernel_stacks.register_source(repr(str(dump))) + (
        "import threading, time\n"
        "def parked_worker():\n"
        "    time.sleep(60)\n"
        "threading.Thread(target=parked_worker, daemon=True).start()\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", source], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert kernel_stacks.request(proc.pid) == ""
        deadline = time.monotonic() + 10
        while "<module>" not in kernel_stacks.read(dump) and time.monotonic() < deadline:
            time.sleep(0.05)  # the main thread's stack is written last
        text = kernel_stacks.read(dump)
        assert "in parked_worker" in text  # the other thread's stack, not only the main one
        assert "Current thread 0x" in text and text.count("hread 0x") == 2
    finally:
        proc.kill()
        proc.wait()


def test_no_pid_or_a_gone_process_says_why(tmp_path: Path) -> None:
    assert kernel_stacks.request(None) == "(no kernel pid)"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert "not signalled" in kernel_stacks.request(gone.pid)
    assert kernel_stacks.read(tmp_path / "missing.txt") == "(no stack dump)"
