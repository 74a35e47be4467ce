"""JobFeed: the jobs an executor grows, open to new jobs while the run goes on.

A generational run hands an executor a closed feed (a fixed list). A steady-state run
keeps the feed open and adds a child the moment a result comes back, so no worker waits
for the slowest model of a generation; it closes the feed when its budget is spent. The
executor's run ends when the feed is closed and every job it took has come back.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from ..errors import CladeStateError
from ..records import GrowJob


class JobFeed:
    """A thread-safe queue of :class:`GrowJob` with an explicit end (``close``)."""

    def __init__(self, jobs: Iterable[GrowJob] = (), *, closed: bool = True):
        self._jobs: deque[GrowJob] = deque(jobs)
        self._closed = closed
        self._changed = threading.Condition()

    @classmethod
    def open(cls, jobs: Iterable[GrowJob] = ()) -> JobFeed:
        """A feed that takes more jobs until ``close``."""
        return cls(jobs, closed=False)

    def add(self, job: GrowJob) -> None:
        with self._changed:
            if self._closed:
                raise CladeStateError(f"JobFeed.add({job.model_id!r}): the feed is closed")
            self._jobs.append(job)
            self._changed.notify_all()

    def close(self) -> None:
        """No more jobs will come: the run ends once the queued ones are grown."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def take(self) -> GrowJob | None:
        """The next job, or None when none is queued now."""
        with self._changed:
            return self._jobs.popleft() if self._jobs else None

    def put_back(self, job: GrowJob) -> None:
        """Return a job to the front (a retry, or a send that failed): closed or not."""
        with self._changed:
            self._jobs.appendleft(job)
            self._changed.notify_all()

    def drop_queued(self) -> list[GrowJob]:
        """Remove the jobs not started yet (a stop: they are grown again on resume)."""
        with self._changed:
            dropped, self._jobs = list(self._jobs), deque()
            return dropped

    def wait(self, timeout: float) -> None:
        """Sleep until a job is added, the feed closes, or ``timeout`` seconds pass."""
        with self._changed:
            if not self._jobs and not self._closed:
                self._changed.wait(timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def exhausted(self) -> bool:
        """Closed and empty: nothing more will be taken from it."""
        with self._changed:
            return self._closed and not self._jobs

    def __len__(self) -> int:
        with self._changed:
            return len(self._jobs)


def as_feed(jobs: Iterable[GrowJob] | JobFeed) -> JobFeed:
    """A feed from a feed (as is) or from a fixed list of jobs (closed)."""
    return jobs if isinstance(jobs, JobFeed) else JobFeed(jobs)
