"""One contract, three executors (in-process, process pool, Dask LocalCluster): the same
results as a one-thread in-process run, live events for every model, an open job feed
that a result extends at once, and a prompt stop. Backend-specific behaviour (worker
recycling, killed workers, the CLI flags) stays in test_executor_pool/dask/faults."""

from __future__ import annotations

import threading
import time

import pytest
from executor_helpers import WINE, Recorder, assert_same_as_one_thread_in_process, tiny_jobs

from dlgene_core.errors import CladeStateError
from dlgene_core.executors import InProcessExecutor, JobFeed
from dlgene_core.executors.dask_executor import DaskExecutor

KINDS = ("inprocess", "pool", "dask")
WORKER_PREFIX = {"inprocess": "main", "pool": "pool-", "dask": "dask-"}


@pytest.fixture(scope="module", params=KINDS)
def executor(request):
    if request.param == "inprocess":
        return InProcessExecutor()
    if request.param == "pool":
        return request.getfixturevalue("pool")
    return DaskExecutor(client=request.getfixturevalue("dask_client"))


def _kind(executor) -> str:
    return executor.name


def test_same_results_as_one_thread_in_process(executor):
    assert_same_as_one_thread_in_process(executor)


def test_live_events_for_every_model(executor):
    rec = Recorder()
    jobs = tiny_jobs(3, epochs=3, batch_size=8, prefix=f"ev-{_kind(executor)}-")
    executor.run(jobs, WINE, rec.on_event, rec.on_result, lambda: False)
    assert set(rec.results) == {j.model_id for j in jobs}
    for mid, result in rec.results.items():
        assert result.status == "ok", result.phenotype["reason"]
        assert rec.batches[mid] == result.phenotype["batches_run"] > 0
        epochs = [e for e in rec.events if e["event"] == "epoch" and e["model_id"] == mid]
        assert [e["epoch"] for e in epochs] == [0, 1, 2]
        assert result.phenotype["worker"].startswith(WORKER_PREFIX[_kind(executor)])
    starts = [e["model_id"] for e in rec.events if e["event"] == "start"]
    assert sorted(starts) == sorted(rec.results)  # one start per model
    assert not [e for e in rec.events if e["event"] == "_done"]  # internal markers stay inside


def test_open_feed_grows_jobs_added_by_results(executor):
    """A steady-state run: each result adds the next job at once; closing ends the run."""
    kind = _kind(executor)
    extra = iter(tiny_jobs(4, epochs=1, batch_size=32, prefix=f"feed-{kind}-late-"))
    feed = JobFeed.open(tiny_jobs(2, epochs=1, batch_size=32, prefix=f"feed-{kind}-first-"))
    rec = Recorder()
    added_after: dict[str, str] = {}

    def on_result(result):
        rec.on_result(result)
        job = next(extra, None)
        if job is None:
            feed.close()
        else:
            added_after[job.model_id] = result.model_id
            feed.add(job)

    executor.run(feed, WINE, rec.on_event, on_result, lambda: False)
    assert len(rec.results) == 6 and {r.status for r in rec.results.values()} == {"ok"}
    order = [e["model_id"] for e in rec.events if e["event"] == "start"]
    results_order = list(rec.results)
    for late, trigger in added_after.items():  # started only after the result that added it
        assert results_order.index(trigger) < results_order.index(late)
        assert late in order
    assert feed.exhausted
    with pytest.raises(CladeStateError, match="closed"):
        feed.add(tiny_jobs(1, prefix="too-late-")[0])


def test_open_feed_waits_for_jobs_from_another_thread(executor):
    """An open feed that is empty for a while does not end the run; close does."""
    kind = _kind(executor)
    feed = JobFeed.open(tiny_jobs(1, epochs=1, batch_size=32, prefix=f"wait-{kind}-a"))
    rec = Recorder()

    def later():
        time.sleep(1.5)
        feed.add(tiny_jobs(1, epochs=1, batch_size=32, prefix=f"wait-{kind}-b")[0])
        feed.close()

    adder = threading.Thread(target=later)
    adder.start()
    executor.run(feed, WINE, rec.on_event, rec.on_result, lambda: False)
    adder.join()
    assert sorted(rec.results) == [f"wait-{kind}-a000", f"wait-{kind}-b000"]


def test_stop_is_prompt_and_leaves_no_result_recorded_as_finished(executor):
    rec = Recorder()
    stop = threading.Event()
    stopped_at: list[float] = []

    def press_stop(event):
        if event["event"] == "batch" and not stop.is_set():
            stop.set()
            stopped_at.append(time.perf_counter())

    rec.hooks.append(press_stop)
    jobs = tiny_jobs(4, epochs=500, batch_size=4, prefix=f"stop-{_kind(executor)}-")
    executor.run(jobs, WINE, rec.on_event, rec.on_result, stop.is_set)
    assert time.perf_counter() - stopped_at[0] < 10
    assert len(rec.results) <= 2  # queued models never started
    assert {r.status for r in rec.results.values()} <= {"stopped"}
    after = Recorder()  # the executor is still usable after a stop
    executor.run(
        tiny_jobs(1, prefix=f"after-{_kind(executor)}-"),
        WINE,
        after.on_event,
        after.on_result,
        lambda: False,
    )
    assert [r.status for r in after.results.values()] == ["ok"]
