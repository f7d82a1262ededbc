"""Freshness of `latest_prices`: during an NYSE session the table must have been updated in
the last three minutes; outside sessions it may rest.

The last update is the newest `tick` in the table itself (the tick that wrote the row), not
Dagster's materialization history: production ticks run in a Lambda that Dagster never hears
of directly, and they write the same table. The check runs on its own (`freshness_job`, on
`freshness_schedule`), so a tick schedule that stopped firing is caught.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, asset_check

from marketdata_assets.defs.resources import LatestPricesResource
from marketdata_assets.market.calendar import EXCHANGE_TZ, nyse_open, session_bounds
from marketdata_assets.market.ticks import floor_minute, format_tick, parse_tick
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S

MAX_AGE = timedelta(minutes=3)
# The minute a freshness run judges: its schedule's minute (a run launched without it judges
# the time it runs).
AS_OF_TAG = "marketdata/as_of"


def judge(last_update: datetime | None, now: datetime) -> tuple[bool, dict[str, str | int]]:
    """Whether a table last updated at `last_update` (None: never) is fresh at `now`, and what
    the check shows. In a session the clock starts at the open at the earliest: yesterday's
    last tick does not make the session's first minutes stale."""
    shown: dict[str, str | int] = {
        "as_of": format_tick(now),
        "last_update": format_tick(last_update) if last_update else "never",
        "max_age_s": int(MAX_AGE.total_seconds()),
    }
    if not nyse_open(floor_minute(now)):
        return True, shown | {"market": "closed"}
    opened = session_bounds(now.astimezone(ZoneInfo(EXCHANGE_TZ)).date())[0].to_pydatetime()
    age = now - max(last_update or opened, opened)
    return age <= MAX_AGE, shown | {"market": "open", "age_s": round(age.total_seconds())}


def as_of(tags: Mapping[str, str]) -> datetime:
    """The minute a run judges: its AS_OF_TAG, else now."""
    if AS_OF_TAG in tags:
        return parse_tick(tags[AS_OF_TAG], source=f"run tag {AS_OF_TAG}", window_s=FUTURE_WINDOW_S)
    return datetime.now(UTC)


@asset_check(
    asset="latest_prices",
    name="fresh_in_session",
    description="During an NYSE session (early closes included) the table's newest tick is at "
    "most 3 minutes old; at night, on weekends and holidays it passes with market closed.",
)
def fresh_in_session(
    context: AssetCheckExecutionContext, latest_store: LatestPricesResource
) -> AssetCheckResult:
    rows = latest_store.store().all()
    passed, metadata = judge(max((row.tick for row in rows), default=None), as_of(context.run.tags))
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata | {"symbols": len(rows)},
    )
