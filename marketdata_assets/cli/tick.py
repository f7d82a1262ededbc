"""`marketdata tick`: materialise one tick of tick_job in-process."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from marketdata_assets.cli.common import QUIET, Commands, check_writable, command, fail, instance
from marketdata_assets.market.calendar import nyse_open
from marketdata_assets.market.ticks import floor_minute, parse_tick
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S
from marketdata_assets.providers import registry
from marketdata_assets.settings import Settings

# Settings a tick flag overrides -> the flag, so errors name what the user typed.
TICK_FLAGS = {
    "provider": "--provider",
    "symbols": "--symbols",
    "fault_rate": "--fault-rate",
    "seed": "--seed",
    "source": "--source",
}


def register(commands: Commands) -> None:
    """Add the `tick` command."""
    tick = command(
        commands,
        "tick",
        "materialise one tick of tick_job in-process",
        "marketdata tick --symbols AAPL,MSFT --json",
    )
    tick.add_argument("--at", help="the tick minute, ISO-8601 with offset (default: now)")
    tick.add_argument("--symbols", help="comma-separated symbols (default: MARKETDATA_SYMBOLS)")
    tick.add_argument(
        "--provider",
        help=f"{registry.choices(registry.tick_providers())} (default: MARKETDATA_PROVIDER)",
    )
    tick.add_argument("--source", help="replay: a JSON Lines file or s3://bucket/key")
    # Flag values stay text here: Settings checks them by the same rules as the environment.
    tick.add_argument("--fault-rate", help="stub: share of records given a defect, 0 to 1")
    tick.add_argument("--seed", help="stub: random seed, 0 to 2**32-1")
    tick.add_argument("--json", action="store_true", help="print one JSON object")
    tick.set_defaults(handler=_tick)


def _tick(args: argparse.Namespace) -> int:
    # Every input is checked before Dagster or Great Expectations is imported (seconds) and
    # before anything is written.
    settings = Settings.from_env()
    origin = RunOrigin("cli")
    tick = (
        parse_tick(args.at, window_s=FUTURE_WINDOW_S)
        if args.at
        else floor_minute(datetime.now(UTC))
    )
    flags = {field: getattr(args, field) for field in TICK_FLAGS}
    settings = settings.with_overrides(TICK_FLAGS, **flags)
    if "log_level" not in settings.model_fields_set:
        settings = settings.with_overrides(log_level=QUIET)
    _check_provider(settings)
    check_writable(settings)
    dagster_instance = instance(settings)

    from marketdata_assets.execution.tick import TickFailed, run_tick

    try:
        summary = run_tick(settings, tick, dagster_instance, origin)
    except TickFailed as error:
        return fail(error, 1)
    shown = summary.as_dict() | {"market": "open" if nyse_open(tick) else "closed"}
    if args.json:
        print(json.dumps(shown))
    else:
        print(_summary_line(shown))
        if summary.reasons:
            reasons = ", ".join(f"{code} {count}" for code, count in summary.reasons.items())
            print(f"quarantined by reason: {reasons} (see `marketdata quarantine`)")
    return 0


def _summary_line(summary: dict[str, object]) -> str:
    stale = summary.get("latest_stale", 0)
    unchanged = summary.get("latest_unchanged", 0)
    return (
        f"tick {summary['tick']}: {summary['raw']} raw, {summary['validated']} validated, "
        f"{summary['quarantined']} quarantined, {summary['latest_updated']} latest prices updated"
        + (f" ({stale} stale: the table already held these or newer prices)" if stale else "")
        + (f" ({unchanged} unchanged: not written again)" if unchanged else "")
        + (f", {summary['provider_errors']} provider errors" if summary["provider_errors"] else "")
        + ("; the market is closed at this minute" if summary["market"] == "closed" else "")
    )


def _check_provider(settings: Settings) -> None:
    """Build the provider as a run would (its key looked up), and run its vendor's checks (a
    replay source must exist)."""
    registry.check_provider(settings)
