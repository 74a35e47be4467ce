"""Where a worker process runs: which GPUs it may see and which core it is pinned to.

Kept apart from the executors so the pool and Dask place workers the same way: one
TensorFlow thread pool per core (two pools on two busy cores collapse) and GPUs spread
over the workers round-robin.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

PIN_ENV = "DLGENE_WORKER_CPU"  # the core a pool worker is pinned to (set by the pool)


def visible_gpus() -> list[str]:
    """GPU ids this process may use: CUDA_VISIBLE_DEVICES if set, else nvidia-smi's list."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        ids = [g.strip() for g in env.split(",") if g.strip()]
        return [] if any(g.startswith("-") for g in ids) else ids
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if out.returncode != 0:
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def gpu_env(slot: int, gpus: list[str]) -> dict[str, str]:
    """Environment that gives worker ``slot`` one GPU of ``gpus`` (none: empty)."""
    if not gpus:
        return {}
    # workers that share a GPU must not each take all of its memory
    return {"CUDA_VISIBLE_DEVICES": gpus[slot % len(gpus)], "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def available_cpus() -> list[int]:
    """Cores this process may run on (empty where the OS cannot tell)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return []


def pin_to_cpu(cpu: str) -> None:
    """Keep this process (every thread, TF's helpers included) on one core."""
    if not cpu.isdigit() or not hasattr(os, "sched_setaffinity"):
        return
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for tid in threads:  # Linux applies affinity per thread; new threads inherit it
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, {int(cpu)})


def pin_to_slot(index: int) -> bool:
    """Pin this process to core ``index % cores``; False where cores are unknown."""
    cpus = available_cpus()
    if not cpus:
        return False
    pin_to_cpu(str(cpus[index % len(cpus)]))
    return True
