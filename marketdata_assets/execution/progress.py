"""A backfill's one-line progress bar on a terminal (sessions, rows, ETA); silent otherwise."""

from __future__ import annotations

import time
from typing import IO


class Progress:
    """Sessions done of `total`, rows read and the time left, redrawn in place."""

    def __init__(self, total: int, stream: IO[str] | None):
        self.total, self.done, self.started = total, 0, time.monotonic()
        self.stream = stream if stream is not None and stream.isatty() else None

    def advance(self, sessions: int, rows: int) -> None:
        self.done += sessions
        if self.stream is None:
            return
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        filled = int(30 * self.done / max(self.total, 1))
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} sessions · "
            f"{rows:,} rows · ETA {int(eta) // 60}:{int(eta) % 60:02d} "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()
