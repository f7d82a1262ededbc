"""A backfill's batches side by side, one run at a time in each of a few worker processes.

Dagster's multiprocess executor parallelises the steps of one run; a history run is a chain of
steps (raw, gate, daily bars, analytics) over its batch's partitions, so it would gain nothing,
and its steps in separate processes would each take and drop the sessions' locks that a run must
hold from its first read of their raw to its end (`defs.history_run`). What can run at once is
the runs of different batches: each worker executes whole runs in process, as the sequential
backfill does, recorded in the same persistent instance (Dagster's SQLite storage takes writers
from several processes, as `dagster dev`'s runs do).

A batch's run reads earlier sessions through windows, so a batch runs in stages (`stages`), and
its stage starts once every earlier batch has finished the stage before: the lake then holds
what one sequential backfill writes. The stages that may run together run as one run (the first
batch's whole job; a later batch's raw and gate, then the rest once the batches before it end).
Workers are forked after Great Expectations is imported, so they share its pages and none
imports it again; each dies with the backfill's process.
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import AbstractContextManager, suppress
from dataclasses import replace
from datetime import date
from functools import partial

from dagster import AssetKey, DagsterInstance, JobDefinition

from marketdata_assets.execution.batches import BatchOutcome, execute_batch
from marketdata_assets.settings import Settings

# Sessions a worker's run materialises: half the sequential batch, so two workers at their
# peaks hold about what one batch of SESSIONS_PER_RUN does (measured: bench/README.md).
SESSIONS_PER_RUN = 5
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
Batch = tuple[list[date], Mapping[str, object]]  # the sessions of a run, raw_history's request


def cores() -> int:
    """The cores this process may run on (its affinity, else the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def backfill_workers(settings: Settings, batches: int) -> int:
    """Runs at once: MARKETDATA_BACKFILL_CONCURRENCY, else the cores; never more than batches."""
    return max(1, min(settings.backfill_concurrency or cores(), batches))


def run_batches(
    job: JobDefinition,
    settings: Settings,
    stages: Sequence[Sequence[AssetKey]],
    batches: Sequence[Batch],
    instance: DagsterInstance,
    workers: int,
    ended: Callable[[int, BatchOutcome], None],
) -> list[BatchOutcome]:
    """Every batch through every stage on `workers` processes, recorded in `instance` (a
    persistent one: workers open it from its ref). `ended(index, outcome)` as each batch ends;
    the outcomes come back in batch order: the first failed stage's, else the gate's counts."""
    importlib.import_module("great_expectations")  # once, before the fork (see above)
    done = [0] * len(batches)  # stages finished, per batch
    outcomes: list[BatchOutcome | None] = [None] * len(batches)
    over = [False] * len(batches)  # every stage ran, or one failed
    running: dict[Future[BatchOutcome], tuple[int, int]] = {}  # batch, end of its stages
    fork = multiprocessing.get_context("fork")
    # The instance is reopened from its ref in each worker (its folder crosses the fork, not its
    # connections), one worker at a time: two first openings of a new instance's SQLite files
    # at once would both create its tables.
    opened = partial(DagsterInstance.from_ref, instance.get_ref())
    with ProcessPoolExecutor(
        workers,
        mp_context=fork,
        initializer=_start,
        initargs=(job, settings, opened, fork.Lock(), os.getpid()),
    ) as pool:
        while not all(over):
            for index, upto in _ready(done, over, running, workers - len(running), len(stages)):
                sessions, request = batches[index]
                assets = tuple(key for stage in stages[done[index] : upto] for key in stage)
                running[pool.submit(_stage, sessions, request, assets)] = (index, upto)
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                index, upto = running.pop(future)
                outcome = future.result()
                if done[index] == 0 or outcome.error is not None:
                    outcomes[index] = outcome  # the gate's counts, or the failure
                elif outcome.actions_refused:  # the actions gate's stage ran alone
                    kept = _outcome(outcomes[index])
                    outcomes[index] = replace(kept, actions_refused=outcome.actions_refused)
                done[index] = upto
                if outcome.error is not None or upto == len(stages):
                    over[index] = True
                    ended(index, _outcome(outcomes[index]))
    return [_outcome(outcome) for outcome in outcomes]


def _ready(
    done: list[int],
    over: list[bool],
    running: Mapping[Future[BatchOutcome], tuple[int, int]],
    slots: int,
    stages: int,
) -> Iterator[tuple[int, int]]:
    """Up to `slots` (batch, end of its stages to run now), earliest batch first. A batch's
    stage may run once every earlier batch has finished the stage before it (or ended), and
    every stage that may run now runs in one run: the first batch runs whole."""
    busy = {index for index, _ in running.values()}
    for index in range(len(done)):
        if slots <= 0:
            return
        if over[index] or index in busy:
            continue
        upto = min([stages] + [done[e] + 1 for e in range(index) if not over[e]])
        if upto > done[index]:
            slots -= 1
            yield index, upto


def _outcome(outcome: BatchOutcome | None) -> BatchOutcome:
    assert outcome is not None  # every batch has ended
    return outcome


# A worker's job, settings and instance, set once when it starts.
_worker: tuple[JobDefinition, Settings, DagsterInstance] | None = None


def _start(
    job: JobDefinition,
    settings: Settings,
    opened: Callable[[], DagsterInstance],
    opening: AbstractContextManager[object],
    parent: int,
) -> None:
    global _worker
    _die_with(parent)
    with opening:
        _worker = (job, settings, opened())


def _stage(
    sessions: list[date], request: Mapping[str, object], assets: tuple[AssetKey, ...]
) -> BatchOutcome:
    """One run of a batch: the assets of its stages that may run now."""
    assert _worker is not None, "not a backfill worker"
    job, settings, instance = _worker
    return execute_batch(job, settings, sessions, request, instance, assets)


def _die_with(parent: int) -> None:
    """On Linux the kernel kills this worker when the backfill's process dies (kill -9 too), so
    no orphan goes on holding and writing sessions."""
    with suppress(OSError, AttributeError):  # not Linux: a worker outlives a killed parent
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
