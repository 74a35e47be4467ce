"""Shared fixtures: the real data sets in ../shared/data (CI lays it beside the clone)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DLGENE_SHARED_DATA", REPO.parent / "shared" / "data"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; tests that need it skip with a reason when it is absent."""
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data folder {SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pool():
    """Two warm pool workers shared by the executor tests (recycled after 40 models)."""
    from dlgene_core.executors.pool import ProcessPoolExecutor

    executor = ProcessPoolExecutor(workers=2, max_models_per_worker=40)
    executor.wait_ready()
    yield executor
    executor.close()


@pytest.fixture(scope="session")
def dask_client():
    """A real LocalCluster (2 worker processes, 1 thread each) shared by the Dask tests."""
    distributed = pytest.importorskip("distributed")
    import dask

    from dlgene_core.executors.common import ONE_THREAD_ENV

    # allowed-failures=0: a worker dying under a task fails it at once (KilledWorker).
    # lost-worker-timeout: 15 s after a worker is removed (killed by a test), the cluster
    # closes the nanny of that name if no worker of that name is registered just then; a
    # worker restart of ours (recycling) that falls on that moment lost a nanny for good.
    # The nannies restart killed workers themselves, so that clean-up is not wanted here.
    dask.config.set({"distributed.deploy.lost-worker-timeout": "1h"})
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env=dict(ONE_THREAD_ENV),
        )
    client = distributed.Client(cluster)
    client.wait_for_workers(2, timeout=120)
    yield client
    client.close()
    cluster.close()
