"""What the dashboard reads, and how long it keeps it.

A dashboard is read in bursts (a page fetches several endpoints, clients refresh together) while
the data changes once a minute: listings are kept a few seconds, a minute's objects by the set of
objects the minute holds (a rerun rewrites identical bytes), forecasts by the history they were
computed from. The latest-price table itself is read on every request.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from marketdata_assets import stores, views
from marketdata_assets.lake import LocalObjectStore, ObjectStore, object_key
from marketdata_assets.lake.keys import date_prefix
from marketdata_assets.market_hours import EXCHANGE_TZ
from marketdata_assets.settings import StorageSettings
from marketdata_assets.ticks import format_tick

if TYPE_CHECKING:
    from marketdata_assets.history.query import History

T = TypeVar("T")
LATEST_S = 1.0  # how long latest-price rows are reused (SQLite: less, when the file changes)
LISTING_S = 5.0  # how long a listing (newest tick, recent minutes, sessions held) is reused
OBJECT_S = 300.0  # how long a minute's decoded objects are reused
HISTORY_S = 300.0  # how long history read is reused while the sessions held are unchanged
FORECAST_S = 3600.0  # how long a forecast is reused while the history it read is unchanged
# Without a tick, the reason filter searches the newest days holding quarantined rows.
QUARANTINE_SEARCH_DAYS = 7
# Minute datasets a tick's row reads: its run record, raw payload and the gate's two outputs.
TICK_DATASETS = ("runs", "raw", "validated", "quarantine")
_NEW_YORK = ZoneInfo(EXCHANGE_TZ)


class Kept:
    """A small thread-safe cache: a value is reused for `seconds` after it was computed, and
    computed once however many requests ask for it at the same time."""

    def __init__(self, seconds: float, size: int = 1024):
        self.seconds, self.size = seconds, size
        self._values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            found, value = self._fresh(key)
            if found:
                return value
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one request computes; the others wait for its value
            with self._lock:
                found, value = self._fresh(key)
            if found:
                return value
            started = time.monotonic()
            try:
                computed = compute()
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            with self._lock:
                self._values[key] = (started, computed)
                self._values.move_to_end(key)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return computed

    def _fresh(self, key: Hashable) -> tuple[bool, Any]:
        held = self._values.get(key)
        if held is not None and time.monotonic() - held[0] < self.seconds:
            return True, held[1]
        return False, None


class Reader:
    """The dashboard's reads over `settings`' stores (built once, reused by every request)."""

    def __init__(self, settings: StorageSettings):
        self.settings = settings
        self.lake = stores.lake_store(settings)
        self.table = stores.latest_store(settings)
        self._listings = Kept(LISTING_S)
        self._objects = Kept(OBJECT_S, 4096)
        self._latest = Kept(LATEST_S, 4)
        self._history = Kept(HISTORY_S, 256)
        self._forecasts = Kept(FORECAST_S, 256)

    def latest_json(self) -> bytes | None:
        """The latest-price rows (`marketdata latest --json`) with the previous session's close,
        the change since it, whether a newer tick has run since (`stale`), and the price's age
        now (`age_s`), as a JSON list; None when the table is empty.

        Encoding 500 rows costs more than reading them: each row is kept encoded but for its
        age, which is appended per request."""
        rows = self._latest.get(self._table_state(), self._latest_rows)
        if not rows:
            return None
        now_us = time.time() * 1e6
        encoded = ",".join(
            f"{row}{round((now_us - event_us) / 1e6, 3)}}}" for event_us, row in rows
        )
        return f"[{encoded}]".encode()

    def _latest_rows(self) -> list[tuple[float, str]]:
        """(event time in µs, the row's JSON up to its age's value) of every symbol."""
        prices = self.table.all()
        if not prices:
            return []
        newest = max([self.newest_tick(), *(price.tick for price in prices)])
        days = {price.event_ts.astimezone(_NEW_YORK).date() for price in prices}
        closes = {day: self._closes_before(day) for day in days}
        rows = []
        for price in prices:
            previous = closes[price.event_ts.astimezone(_NEW_YORK).date()].get(price.symbol)
            change = None if previous is None else price.price - previous
            row = {
                **views.latest_row(price),
                "previous_close": previous,
                "change": change,
                "change_pct": None if change is None or not previous else 100 * change / previous,
                "stale": price.tick < newest,
            }
            encoded = json.dumps(row, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            rows.append((price.event_ts.timestamp() * 1e6, f'{encoded[:-1]},"age_s":'))
        return rows

    def _table_state(self) -> Hashable:
        """What changes when the latest-price table does: the SQLite file's and its write-ahead
        log's size and time; nothing to look at in DynamoDB (its rows are kept LATEST_S)."""
        if self.settings.profile != "local":
            return None
        path = self.settings.sqlite_path
        return tuple(
            (stat.st_mtime_ns, stat.st_size) if (stat := _stat(file)) else None
            for file in (path, path.with_name(path.name + "-wal"))
        )

    def newest_tick(self) -> datetime:
        """The newest minute holding a run record or a raw object (the epoch when none does)."""
        return self._listings.get("newest", self._newest_tick)

    def ticks(self, limit: int) -> list[dict[str, object]]:
        """The newest `limit` ticks, newest first, in the status shape plus `raw`, `reasons` and
        (from a run record) `checks`."""
        minutes = self._listings.get(("minutes", limit), lambda: self._recent_minutes(limit))
        return [
            self._objects.get(
                ("tick", tick, frozenset(keys.items())), partial(self._tick, tick, keys)
            )
            for tick, keys in minutes
        ]

    def quarantine(
        self, tick: datetime | None, reason: str | None, limit: int
    ) -> list[dict[str, object]]:
        """Quarantined records (`marketdata quarantine --json`), newest tick first, of `tick`
        (None: the newest QUARANTINE_SEARCH_DAYS days holding any) with `reason` (None: any),
        at most `limit`, each with the command that replays its tick."""
        found: list[dict[str, object]] = []
        for key in self._quarantine_keys(tick):
            for record in self._objects.get(("quarantine", key), partial(self._records, key)):
                if reason is None or reason in record["reasons"]:  # type: ignore[operator]
                    found.append(record)
                    if len(found) == limit:
                        return found
        return found

    def bars(self, symbol: str, interval: str, first: date | None, last: date | None) -> History:
        """`history.query.bars`, reused while the sessions held are unchanged."""
        from marketdata_assets.history import query

        dataset = "daily_bars" if interval == "1d" else "minute_bars"
        return self._history.get(
            ("bars", symbol, interval, first, last, self._held(dataset)),
            partial(query.bars, self.settings, symbol, interval, first, last),
        )

    def analytics(self, symbol: str, first: date | None, last: date | None) -> History:
        """`history.query.analytics`, reused while the sessions held are unchanged."""
        from marketdata_assets.history import query

        return self._history.get(
            ("analytics", symbol, first, last, self._held("session_analytics")),
            partial(query.analytics, self.settings, symbol, first, last),
        )

    def forecast(self, symbol: str, horizon: str) -> dict[str, object]:
        """`marketdata forecast --json`'s object plus its `verdict` in words; without enough
        history, `served_model` null and a `message` naming the backfill to run."""
        return self._forecasts.get(
            (symbol, horizon, self._held("minute_bars"), self._held("daily_bars")),
            partial(self._forecast, symbol, horizon),
        )

    def _held(self, dataset: str) -> int:
        """A fingerprint of the objects the daily dataset holds (its listing, kept briefly)."""
        return self._listings.get(
            ("held", dataset), lambda: hash(tuple(self.lake.keys(f"{dataset}/")))
        )

    def _forecast(self, symbol: str, horizon: str) -> dict[str, object]:
        # The model libraries (seconds to import) load on the first forecast asked for.
        from marketdata_assets.forecasting.evaluation import sessions_needed
        from marketdata_assets.forecasting.panel import NotEnoughHistory, load_panel
        from marketdata_assets.forecasting.serving import ORIGINS, forecast

        try:
            panel = load_panel(self.settings, [symbol], None, sessions_needed(ORIGINS))
            served = forecast(panel, symbol, horizon)
        except NotEnoughHistory as error:
            message = f"not enough history yet: {error}"
            return {"symbol": symbol, "horizon": horizon, "served_model": None, "message": message}
        return {**served, "verdict": views.forecast_verdict(served)}

    def _closes_before(self, day: date) -> dict[str, float]:
        from marketdata_assets.history.query import closes_before

        return self._listings.get(("closes", day), lambda: closes_before(self.settings, day)[1])

    def _newest_tick(self) -> datetime:
        newest = datetime(1970, 1, 1, tzinfo=UTC)
        for name in ("runs", "raw"):
            days = minute_days(self.lake, name)
            if days:
                ticks = [_tick_of(key) for key in self.lake.keys(date_prefix(name, days[-1]))]
                newest = max([newest, *(tick for tick in ticks if tick is not None)])
        return newest

    def _recent_minutes(self, limit: int) -> list[tuple[datetime, dict[str, str]]]:
        """The newest `limit` minutes holding a run record or a raw object, newest first, with
        the key of each of TICK_DATASETS' objects the minute holds."""
        days = sorted({*minute_days(self.lake, "runs"), *minute_days(self.lake, "raw")})
        found: list[tuple[datetime, dict[str, str]]] = []
        for day in reversed(days):
            minutes: dict[datetime, dict[str, str]] = {}
            for name in TICK_DATASETS:
                for key in self.lake.keys(date_prefix(name, day)):
                    tick = _tick_of(key)
                    if tick is not None and key == object_key(name, tick):
                        minutes.setdefault(tick, {})[name] = key
            held = [(t, keys) for t, keys in minutes.items() if "runs" in keys or "raw" in keys]
            found += sorted(held, key=lambda item: item[0], reverse=True)
            if len(found) >= limit:
                break
        return found[:limit]

    def _tick(self, tick: datetime, keys: dict[str, str]) -> dict[str, object]:
        """One tick's row: from its run record when it has one, else from its objects."""
        from marketdata_assets import curation

        reasons = self._reasons(keys["quarantine"]) if "quarantine" in keys else {}
        if "runs" in keys:
            from marketdata_assets import run_records

            record = run_records.load(self.lake.get(keys["runs"]))
            row = run_records.status_row(record)
            row["raw"] = record.get("raw")
            row["reasons"] = reasons
            row["checks"] = [
                {name: check.get(name) for name in ("asset", "check", "passed", "severity")}
                for check in record.get("checks", [])
                if check.get("evaluated")
            ]
            for detail in ("source", "cause", "reason"):
                if record.get(detail) is not None:
                    row[detail] = record[detail]
            return row
        payload = self.lake.get(keys["raw"])
        validated = self._rows(keys["validated"]) if "validated" in keys else None
        quarantined = self._rows(keys["quarantine"]) if "quarantine" in keys else None
        return {
            "tick": format_tick(tick),
            "outcome": "succeeded" if validated is not None else "failed",
            "validated": validated,
            "quarantined": quarantined,
            "provider_errors": curation.provider_errors(payload),
            "duration_ms": None,
            "request_id": None,
            "raw": sum(1 for _ in curation.raw_records(payload)),
            "reasons": reasons,
        }

    def _rows(self, key: str) -> int:
        import pyarrow.parquet as pq

        return int(pq.read_metadata(io.BytesIO(self.lake.get(key))).num_rows)

    def _reasons(self, key: str) -> dict[str, int]:
        """Quarantined rows per reason code in one quarantine object."""
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(self.lake.get(key)), columns=["reasons"])
        return dict(
            Counter(code for codes in table.column("reasons").to_pylist() for code in codes)
        )

    def _quarantine_keys(self, tick: datetime | None) -> list[str]:
        """The quarantine objects to read, newest first."""
        if tick is not None:
            key = object_key("quarantine", tick)
            return [key] if key in self.lake.keys(date_prefix("quarantine", tick.date())) else []
        days = minute_days(self.lake, "quarantine")[-QUARANTINE_SEARCH_DAYS:]
        return [
            key
            for day in reversed(days)
            for key in reversed(self.lake.keys(date_prefix("quarantine", day)))
            if (found := _tick_of(key)) is not None and key == object_key("quarantine", found)
        ]

    def _records(self, key: str) -> list[dict[str, object]]:
        tick = _tick_of(key)
        assert tick is not None
        replay = views.replay_command(self.settings, tick)
        return [
            {**record, "replay": replay}
            for record in views.quarantine_object_records(self.lake.get(key))
        ]


def minute_days(lake: ObjectStore, name: str) -> list[date]:
    """The UTC days holding objects of the minute dataset `name`, oldest first, from one listing
    of its day folders (never of every object)."""
    prefix = f"{name}/"
    if isinstance(lake, LocalObjectStore):
        folder = lake.root / name
        folders = [f"{prefix}{p.name}/" for p in folder.iterdir()] if folder.is_dir() else []
    else:
        folders = _s3_folders(lake, prefix)
    days = []
    for folder_key in folders:
        part = folder_key.removeprefix(prefix).rstrip("/")
        if part.startswith("date="):
            try:
                days.append(date.fromisoformat(part.removeprefix("date=")))
            except ValueError:
                continue
    return sorted(days)


def _s3_folders(lake: Any, prefix: str) -> list[str]:
    from botocore.exceptions import BotoCoreError, ClientError

    from marketdata_assets.aws import describe
    from marketdata_assets.lake.s3 import LakeError

    try:
        pages = lake.client.get_paginator("list_objects_v2").paginate(
            Bucket=lake.bucket, Prefix=prefix, Delimiter="/"
        )
        return [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    except (ClientError, BotoCoreError) as error:
        raise LakeError(
            f"S3 ListObjectsV2 s3://{lake.bucket}/{prefix} failed: {describe(error)}"
        ) from error


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _tick_of(key: str) -> datetime | None:
    """The minute of a minute object's key (`…/date=YYYY-MM-DD/minute=HHMM/…`), else None."""
    parts = key.split("/")
    if len(parts) != 4 or not parts[1].startswith("date=") or not parts[2].startswith("minute="):
        return None
    try:
        return datetime.strptime(f"{parts[1][5:]} {parts[2][7:]}", "%Y-%m-%d %H%M").replace(
            tzinfo=UTC
        )
    except ValueError:
        return None
