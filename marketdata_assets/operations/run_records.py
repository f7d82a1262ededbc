"""Run records: one JSON object per tick at runs/date=YYYY-MM-DD/minute=HHMM/run.json, written by
whoever ran the tick (the Lambda or the CLI) however it ended, so Dagster can be told later.

A record holds the tick, the Lambda's request id (null from the CLI), the source, the start and
duration, the outcome (`succeeded`; `failed` with its one-line `cause`; `skipped` with its
`reason`), the counts, under the aws profile the AWS requests per operation and the bytes
stored (`aws_requests`, `bytes_stored`), every materialised asset (object key, numeric and text
metadata) and every check of the tick graph (`evaluated` false for those a failed run never
reached).

One record per tick: a rerun replaces its tick's record. A skip never replaces a record: a
redelivered Lambda event whose tick already succeeded is a duplicate delivery, logged and not
run again, and its first delivery's record stays. No Dagster here: the Lambda's skip path,
`marketdata status` and the sensor read and write records through the lake store.

Every reader reads through `parse`, which is total: an object is a record (`record_shape`), or
it is `Skipped` with the one line saying why (not JSON, nested too deep, a field of the wrong
type...), which readers print as a warning naming its key and otherwise leave out.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from marketdata_assets.lake import ObjectStore, object_key, read_if_present
from marketdata_assets.lake.keys import date_prefix, day_of_key
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.operations import record_shape
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S

DATASET = "runs"
MARKET_CLOSED = "market closed"
DUPLICATE_DELIVERY = "duplicate delivery"
COUNTS = (
    "raw",
    "validated",
    "quarantined",
    "latest_updated",
    "latest_stale",
    "latest_unchanged",
    "provider_errors",
)
STATUS_FIELDS = (
    "tick",
    "outcome",
    "validated",
    "quarantined",
    "provider_errors",
    "duration_ms",
    "request_id",
)
# How far back `marketdata status` looks for records, and how far a sensor with no cursor yet.
STATUS_LOOKBACK_DAYS = 31
FIRST_LOOKBACK_DAYS = 1
_SUFFIX = "/run.json"

Source = Literal["lambda", "cli"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunOrigin:
    """Who runs a tick (the CLI, or the Lambda with its request id) and when it started."""

    source: Source
    request_id: str | None = None
    started_at: datetime = field(default_factory=_now)
    started: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)


def new_record(tick: datetime, origin: RunOrigin, outcome: str, **fields: Any) -> dict[str, Any]:
    """A record of `tick` run by `origin`, its duration measured now; `fields` (counts, cause,
    reason, assets, checks) are made JSON-safe."""
    record: dict[str, Any] = {
        "tick": format_tick(tick),
        "request_id": origin.request_id,
        "source": origin.source,
        "started_at": _iso(origin.started_at),
        "duration_ms": origin.elapsed_ms(),
        "outcome": outcome,
        **dict.fromkeys(COUNTS),
        "assets": [],
        "checks": [],
    }
    record.update(json_safe(fields))
    return record


def skipped(tick: datetime, origin: RunOrigin, reason: str) -> dict[str, Any]:
    return new_record(tick, origin, "skipped", reason=reason)


def record_key(tick: datetime) -> str:
    return object_key(DATASET, tick)


def encode(record: Mapping[str, Any]) -> bytes:
    """The lake's JSON form (as its json codec writes, without importing pandas)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode()


def write(store: ObjectStore, record: Mapping[str, Any]) -> str:
    """Store `record` at its tick's key, replacing any earlier record of the tick; the key."""
    key = record_key(_tick_of(record))
    store.put(key, encode(record))
    return key


def write_unless_recorded(store: ObjectStore, record: Mapping[str, Any]) -> bool:
    """Store `record` only when its tick has no record yet (a skip never hides a run)."""
    if read(store, _tick_of(record)) is not None:
        return False
    write(store, record)
    return True


@dataclass(frozen=True)
class Skipped:
    """An object under `runs/` that is no run record: its key and why not (one line)."""

    key: str
    problem: str

    @property
    def warning(self) -> str:
        line = f"marketdata: warning: run record {self.key} skipped: {self.problem}"
        return " ".join(line.split())


OnSkip = Callable[[Skipped], None]


def warn(skipped: Skipped) -> None:
    """Print `skipped`'s one-line warning on stderr."""
    print(skipped.warning, file=sys.stderr)


def read(store: ObjectStore, tick: datetime, on_skip: OnSkip = warn) -> dict[str, Any] | None:
    """The tick's record; None when it has none, or when its object is no record (`on_skip`)."""
    key = record_key(tick)
    body = read_if_present(store, key)
    return None if body is None else _valid(parse(key, body), on_skip)


def parse(key: str, body: bytes) -> dict[str, Any] | Skipped:
    """The record stored at `key`, or Skipped saying why the object is none (never raises)."""
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        return Skipped(key, "not JSON a reader can read (nested too deep)")
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        return Skipped(key, f"not JSON ({' '.join(str(error).split())[:120]})")
    minute = minute_of_key(key)
    problem = record_shape.problem(value, COUNTS, None if minute is None else format_tick(minute))
    if problem is not None:
        return Skipped(key, problem)
    record: dict[str, Any] = value
    return record


def minute_of_key(key: str) -> datetime | None:
    """The tick minute a record key names (`runs/date=YYYY-MM-DD/minute=HHMM/run.json`)."""
    parts = key.split("/")
    if len(parts) != 4 or not parts[1].startswith("date=") or not parts[2].startswith("minute="):
        return None
    try:
        minute = datetime.strptime(f"{parts[1][5:]} {parts[2][7:]}", "%Y-%m-%d %H%M")
    except ValueError:
        return None
    return minute.replace(tzinfo=UTC)


def _valid(found: dict[str, Any] | Skipped, on_skip: OnSkip) -> dict[str, Any] | None:
    if isinstance(found, Skipped):
        on_skip(found)
        return None
    return found


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def keys_after(
    store: ObjectStore, cursor: str | None, limit: int, now: datetime | None = None
) -> list[str]:
    """Up to `limit` record keys after `cursor` (a record key), oldest first. Listed one UTC day
    at a time from the cursor's day (no cursor: FIRST_LOOKBACK_DAYS before today) to today,
    each listing starting after the cursor (S3's StartAfter) and stopping at `limit` keys: a
    sensor's evaluation lists what is new, not the day so far."""
    last = _today(now)
    day = day_of_key(cursor) if cursor else last - timedelta(days=FIRST_LOOKBACK_DAYS)
    found: list[str] = []
    while day <= last and len(found) < limit:
        after = cursor if cursor and day_of_key(cursor) == day else ""
        found += _day_keys_after(store, day, after, limit - len(found))
        day += timedelta(days=1)
    return found[:limit]


def _day_keys_after(store: ObjectStore, day: date, after: str, limit: int) -> list[str]:
    """Up to `limit` record keys of `day` after the key `after`, from bounded listings."""
    prefix, found = date_prefix(DATASET, day), list[str]()
    while len(found) < limit:
        wanted = limit - len(found)
        page = store.keys_after(prefix, after, wanted)
        found += [key for key in page if key.endswith(_SUFFIX)]
        if len(page) < wanted:
            break
        after = page[-1]
    return found


def recent(
    store: ObjectStore,
    last: int,
    now: datetime | None = None,
    lookback_days: int = STATUS_LOOKBACK_DAYS,
    on_skip: OnSkip = warn,
) -> list[dict[str, Any]]:
    """The newest `last` records within `lookback_days` of today, newest first; an object of
    theirs that is no record is left out and given to `on_skip`."""
    today = _today(now)
    keys: list[str] = []
    for back in range(lookback_days + 1):
        keys += reversed(_day_keys(store, today - timedelta(days=back)))
        if len(keys) >= last:
            break
    found = [_valid(parse(key, store.get(key)), on_skip) for key in keys[:last]]
    return [record for record in found if record is not None]


def status_rows(store: ObjectStore, last: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """The newest `last` ticks, newest first, in the status shape."""
    return [status_row(record) for record in recent(store, last, now)]


def status_row(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in STATUS_FIELDS}


def status_table(records: list[dict[str, Any]]) -> str:
    """Records as a text table, newest first; a failure's cause or a skip's reason at the end."""
    if not records:
        return (
            f"(no run records in the last {STATUS_LOOKBACK_DAYS} days: run `marketdata tick` first)"
        )
    lines = [
        f"{'TICK':<18} {'OUTCOME':<10} {'VALIDATED':>9} {'QUARANTINED':>11} "
        f"{'PROV.ERRORS':>11} {'DURATION':>9}  {'SOURCE':<6} {'REQUEST_ID':<36}  DETAIL"
    ]
    for r in records:
        duration = f"{r['duration_ms'] / 1000:.1f}s" if r.get("duration_ms") is not None else "-"
        detail = r.get("cause") or r.get("reason") or ""
        lines.append(
            f"{r['tick']:<18} {r['outcome']:<10} {_count(r, 'validated'):>9} "
            f"{_count(r, 'quarantined'):>11} {_count(r, 'provider_errors'):>11} {duration:>9}  "
            f"{r.get('source') or '-':<6} {r.get('request_id') or '-':<36}  {detail}".rstrip()
        )
    return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """`value` as plain JSON: non-finite floats and unknown types become text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    return str(value)


def _count(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    return "-" if value is None else str(value)


def _day_keys(store: ObjectStore, day: date) -> list[str]:
    return [key for key in store.keys(date_prefix(DATASET, day)) if key.endswith(_SUFFIX)]


def _today(now: datetime | None) -> date:
    # A tick may lie up to FUTURE_WINDOW_S ahead of the clock, so tomorrow's first minute too.
    return ((now or _now()) + timedelta(seconds=FUTURE_WINDOW_S)).astimezone(UTC).date()


def _tick_of(record: Mapping[str, Any]) -> datetime:
    return datetime.strptime(record["tick"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
