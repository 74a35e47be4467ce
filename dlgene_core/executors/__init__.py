"""Where models grow: in this process, in a pool of worker processes, or on Dask.

Every executor takes the same jobs (a list of :class:`~dlgene_core.trainer.GrowJob`, or an
open :class:`JobFeed` that the caller extends while the run goes on) and calls back
``on_event`` (batch / epoch / start events, for live plots) and ``on_result`` (one
:class:`~dlgene_core.trainer.ModelResult` per model, as each finishes) in the caller's
process; the clade writes each result to the folder as it arrives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .base import Executor, InProcessExecutor
from .feed import JobFeed


def resolve_executor(executor: Any, config) -> Executor:
    """An Executor from an instance, a name ('inprocess', 'pool', 'dask'), a Dask Client,
    or None (the config's ``executor`` field, ``workers`` and ``scheduler``)."""
    if isinstance(executor, Executor):
        return executor
    if executor is None:
        executor = implied_executor(config)
    if isinstance(executor, str):
        if executor == "inprocess":
            return InProcessExecutor()
        if executor == "pool":
            from .pool import ProcessPoolExecutor

            return ProcessPoolExecutor(workers=config.workers or None, retries=config.retries)
        if executor == "dask":
            from .dask_executor import DaskExecutor

            return DaskExecutor(address=config.scheduler or None, retries=config.retries)
        raise ValueError(
            f"executor {executor!r}: allowed 'inprocess', 'pool', 'dask', an "
            "Executor or a dask.distributed.Client"
        )
    if type(executor).__name__ == "Client" and type(executor).__module__.startswith("distributed"):
        from .dask_executor import DaskExecutor

        return DaskExecutor(client=executor, retries=config.retries)
    raise ValueError(
        f"executor {executor!r}: allowed 'inprocess', 'pool', 'dask', an Executor "
        "or a dask.distributed.Client"
    )


@contextlib.contextmanager
def executor_for(executor: Any, config) -> Iterator[Executor]:
    """The executor for a grow or evolve call, closed afterwards only if made here: an
    Executor object or a Client the caller gave stays open for their next call."""
    runner = resolve_executor(executor, config)
    owned = executor is None or isinstance(executor, str)
    try:
        yield runner
    finally:
        if owned:
            runner.close()


def implied_executor(config) -> str:
    """The config's executor, where a scheduler address means Dask and workers > 0 mean a
    pool (setting either alone used to be ignored); a contradiction is a ConfigError."""
    from ..errors import ConfigError

    name = config.executor
    if config.scheduler:
        if name == "pool":
            raise ConfigError(
                "scheduler",
                config.scheduler,
                "empty when executor='pool': a scheduler address means Dask "
                "(set executor=dask, or scheduler='' for the pool)",
            )
        return "dask"
    if config.workers and name == "inprocess":
        return "pool"
    return name


__all__ = [
    "Executor",
    "InProcessExecutor",
    "JobFeed",
    "executor_for",
    "implied_executor",
    "resolve_executor",
]
