"""The tick: the UTC minute a pipeline run processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marketdata_assets.errors import ConfigError

TICK_TAG = "marketdata/tick"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the earliest tick: stores count time from here
_EXAMPLE = "example: 2026-11-25T14:31Z"


def floor_minute(moment: datetime) -> datetime:
    """The UTC minute containing `moment` (which must carry a time zone)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def parse_tick(
    text: str, source: str = "--at", now: datetime | None = None, *, window_s: int
) -> datetime:
    """Parse an ISO-8601 time with a UTC offset or Z into its UTC minute, which must lie
    between 1970-01-01 and `window_s` seconds after `now` (default: the current time)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{source} {text!r}: not an ISO-8601 time ({_EXAMPLE})") from None
    if moment.tzinfo is None:
        raise ConfigError(f"{source} {text!r}: needs a UTC offset or Z ({_EXAMPLE})")
    try:
        tick = floor_minute(moment)
    except OverflowError:  # year 1 or 9999 pushed out of datetime's range by its offset
        raise _out_of_range(f"{source} {text!r}", now, window_s) from None
    return check_tick(tick, f"{source} {text!r}", now, window_s=window_s)


def check_tick(
    tick: datetime, source: str, now: datetime | None = None, *, window_s: int
) -> datetime:
    """`tick` when it lies between 1970-01-01 and `window_s` seconds after `now` (default:
    the current time); otherwise a ConfigError naming `source`."""
    if not EPOCH <= tick <= _latest(now, window_s):
        raise _out_of_range(source, now, window_s)
    return tick


def _latest(now: datetime | None, window_s: int) -> datetime:
    return (datetime.now(UTC) if now is None else now) + timedelta(seconds=window_s)


def _out_of_range(source: str, now: datetime | None, window_s: int) -> ConfigError:
    latest = format_tick(_latest(now, window_s))
    return ConfigError(
        f"{source}: must be a minute from 1970-01-01T00:00Z to {latest} "
        f"(at most {window_s} s after the current time)"
    )


def format_tick(tick: datetime) -> str:
    """The tick as an ISO minute in UTC: 2026-11-25T14:31Z."""
    return tick.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
