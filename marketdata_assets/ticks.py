"""The tick: the UTC minute a pipeline run processes."""

from __future__ import annotations

from datetime import UTC, datetime

from marketdata_assets.errors import ConfigError

TICK_TAG = "marketdata/tick"


def floor_minute(moment: datetime) -> datetime:
    """The UTC minute containing `moment` (which must carry a time zone)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def parse_tick(text: str, source: str = "--at") -> datetime:
    """Parse an ISO-8601 time with a UTC offset or Z into its UTC minute."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{source} {text!r}: not an ISO-8601 time (example: 2026-11-25T14:31Z)"
        ) from None
    if moment.tzinfo is None:
        raise ConfigError(
            f"{source} {text!r}: needs a UTC offset or Z (example: 2026-11-25T14:31Z)"
        )
    return floor_minute(moment)


def format_tick(tick: datetime) -> str:
    """The tick as an ISO minute in UTC: 2026-11-25T14:31Z."""
    return tick.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
