"""One writer at a time per claim: a tick's minute (two runs of one minute, a Lambda
redelivery overlapping a CLI run, would interleave their objects) or a history session (two
backfills of one session read-modify-write its raw and would lose each other's symbols).

A claim names what is held; a lock holds claims. Locally the lock is an exclusive `flock` on a
file under the lake's `.locks/` folder, released by the kernel when its process dies. On S3 it
is a lease object (`leases.S3Lease`), judged by the store's clock and renewed while held.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from marketdata_assets.market.ticks import format_tick

WAIT_S = 120.0  # how long a tick run waits for another run of its tick
HISTORY_WAIT_S = 600.0  # how long a history run waits for another batch (up to 10 sessions)
POLL_S = 0.2
log = logging.getLogger(__name__)

# The time an invocation has left, in seconds (None: unbounded but for the lock's wait).
Remaining = Callable[[], float] | None


@dataclass(frozen=True)
class Claim:
    """What a lock holds: `label` for people, `key` its name in the lake (a lease object
    `locks/<key>/lock.json`), `local` its file under `.locks/`."""

    label: str
    key: str
    local: str


def tick_claim(tick: datetime) -> Claim:
    """A tick's minute. Locally one file per minute of the day, so the folder stays small (two
    days' runs of the same minute wait for each other, briefly and harmlessly)."""
    tick = tick.astimezone(UTC)
    return Claim(
        f"tick {format_tick(tick)}",
        f"date={tick:%Y-%m-%d}/minute={tick:%H%M}",
        f"minute={tick:%H%M}",
    )


def session_claim(session: date) -> Claim:
    """A history session: its raw_history and every dataset derived from it."""
    name = f"history/date={session.isoformat()}"
    return Claim(f"history session {session.isoformat()}", name, name)


class LockBusy(RuntimeError):
    """Another run held the claim for longer than this run could wait."""


def busy(claim: Claim, holder: str, waited_s: float, out_of_time: bool) -> LockBusy:
    why = "the invocation's time ran out" if out_of_time else f"waited {waited_s:.1f} s"
    return LockBusy(
        f"{claim.label}: another run ({holder}) holds it ({why}); "
        "this run stopped before writing anything"
    )


def note_waiting(claim: Claim, holder: str, wait_s: float) -> None:
    """Say once, on stderr through logging, that this run waits (so a long wait is explained)."""
    log.warning("%s: held by another run (%s); waiting up to %g s", claim.label, holder, wait_s)


def waited_enough(started: float, wait_s: float, remaining_s: Remaining) -> tuple[bool, bool]:
    """(stop waiting, because the invocation is out of time)."""
    if remaining_s is not None and remaining_s() <= POLL_S:
        return True, True
    return time.monotonic() - started >= wait_s, False


class Lock(Protocol):
    def hold(
        self, claim: Claim, owner: str, remaining_s: Remaining = None
    ) -> AbstractContextManager[None]:
        """A context manager holding `claim` for `owner` (a run id); LockBusy when another
        owner holds it past the lock's wait or the `remaining_s` the caller has."""
        ...


@contextmanager
def hold_all(
    lock: Lock, claims: Iterable[Claim], owner: str, remaining_s: Remaining = None
) -> Iterator[None]:
    """Hold every claim, taken in ascending key order: two owners of overlapping claims then
    never wait for each other in a cycle."""
    with ExitStack() as held:
        for claim in sorted(set(claims), key=lambda c: c.key):
            held.enter_context(lock.hold(claim, owner, remaining_s))
        yield


class LocalLock:
    """`flock` on `<root>/.locks/<claim.local>.lock`; the holder writes its name into the file
    for the waiters' message."""

    def __init__(self, root: Path | str, wait_s: float = WAIT_S):
        self.folder = Path(root) / ".locks"
        self.wait_s = wait_s

    @contextmanager
    def hold(self, claim: Claim, owner: str, remaining_s: Remaining = None) -> Iterator[None]:
        path = self.folder / f"{claim.local}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as handle:
            started, noted = time.monotonic(), False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = path.read_text().strip() or "another process"
                    if not noted:
                        note_waiting(claim, holder, self.wait_s)
                        noted = True
                    stop, out_of_time = waited_enough(started, self.wait_s, remaining_s)
                    if stop:
                        raise busy(claim, holder, time.monotonic() - started, out_of_time) from None
                    time.sleep(POLL_S)
            try:
                handle.truncate(0)
                handle.write(owner)
                handle.flush()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
