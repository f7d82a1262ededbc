"""The latest-price table in SQLite, for the local profile."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from marketdata_assets.latest import (
    LatestPrice,
    UpsertResult,
    from_micros,
    newest_per_symbol,
    to_micros,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS latest_prices (
    symbol      TEXT PRIMARY KEY,
    price       REAL NOT NULL,
    currency    TEXT NOT NULL,
    event_ts_us INTEGER NOT NULL,  -- microseconds since the epoch, UTC: compares exactly
    tick_us     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID
"""
# The WHERE makes the write conditional inside SQLite: an equal or older event_ts changes nothing.
_UPSERT = """
INSERT INTO latest_prices (symbol, price, currency, event_ts_us, tick_us, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (symbol) DO UPDATE SET
    price = excluded.price, currency = excluded.currency, event_ts_us = excluded.event_ts_us,
    tick_us = excluded.tick_us, updated_at = excluded.updated_at
WHERE excluded.event_ts_us > latest_prices.event_ts_us
"""


def _use_wal(connection: sqlite3.Connection, attempts: int = 100) -> None:
    """Put the file in WAL mode (it stays so). Switching needs an exclusive lock, and SQLite
    answers a concurrent switch with "database is locked" at once, without waiting the busy
    timeout: so read the mode first (no lock needed once a writer switched it), and retry."""
    for attempt in range(attempts):
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.01)


class SqliteLatestPriceStore:
    """One row per symbol in a SQLite file; safe for concurrent writers (WAL, immediate lock)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        _use_wal(connection)
        connection.execute(_SCHEMA)
        return connection

    def upsert(self, prices: Iterable[LatestPrice]) -> UpsertResult:
        rows = newest_per_symbol(prices)
        now = datetime.now(UTC).isoformat()
        params = [
            (p.symbol, p.price, p.currency, to_micros(p.event_ts), to_micros(p.tick), now)
            for p in rows
        ]
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            updated = connection.executemany(_UPSERT, params).rowcount if params else 0
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()
        return UpsertResult(updated=updated, stale=len(rows) - updated)

    def remove(self, symbol: str) -> bool:
        if not self.path.is_file():
            return False
        connection = self._connect()
        try:
            removed = connection.execute("DELETE FROM latest_prices WHERE symbol = ?", (symbol,))
            return removed.rowcount > 0
        finally:
            connection.close()

    def version(self) -> Hashable:
        """The time and size of the file and of its write-ahead log (a commit changes one)."""
        return tuple(
            _stat(file) for file in (self.path, self.path.with_name(self.path.name + "-wal"))
        )

    def all(self) -> list[LatestPrice]:
        # A reader creates nothing: no file yet is an empty table. `mode=rw` opens an existing
        # file only, and neither makes folders nor adds the schema (the first upsert does).
        if not self.path.is_file():
            return []
        uri = f"{self.path.resolve().as_uri()}?mode=rw"
        connection = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            rows = connection.execute(
                "SELECT symbol, price, currency, event_ts_us, tick_us FROM latest_prices"
                " ORDER BY symbol"
            ).fetchall()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):  # a writer has created the file, not the table
                return []
            raise
        finally:
            connection.close()
        return [LatestPrice(s, p, c, from_micros(e), from_micros(t)) for s, p, c, e, t in rows]


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size
