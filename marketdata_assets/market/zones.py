"""Time-zone names: which ones the tz database knows. Shared by curation and the providers."""

from __future__ import annotations

import zoneinfo
from functools import cache


def standard_exchange_tz(value: object) -> str | None:
    """An IANA zone name the tz database knows (`America/New_York`), stripped; else None (also
    for a string holding a lone surrogate, which no Parquet file can store)."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value.strip() if value.strip() in _zones() else None


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
