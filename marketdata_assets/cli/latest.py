"""`marketdata latest` and `marketdata quarantine`: the latest-price table and quarantined rows."""

from __future__ import annotations

import argparse
import json

from marketdata_assets.cli.common import Commands, command, read
from marketdata_assets.market.ticks import parse_tick
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S
from marketdata_assets.settings import StorageSettings


def register(commands: Commands) -> None:
    """Add the `latest` and `quarantine` commands."""
    latest = command(commands, "latest", "show the latest-price table", "marketdata latest --json")
    latest.add_argument("--json", action="store_true", help="print a JSON list")
    latest.set_defaults(handler=_latest)

    quarantine = command(
        commands,
        "quarantine",
        "list quarantined rows",
        "marketdata quarantine --tick 2026-11-25T14:31Z --json",
    )
    quarantine.add_argument("--tick", help="only this tick minute")
    quarantine.add_argument("--json", action="store_true", help="print a JSON list")
    quarantine.set_defaults(handler=_quarantine)


def _latest(args: argparse.Namespace) -> int:
    settings = StorageSettings.from_env()
    from marketdata_assets.stores import latest_store
    from marketdata_assets.tick.views import latest_rows, latest_table

    rows = read(lambda: latest_rows(latest_store(settings)))
    if rows is None:
        return 1
    print(json.dumps(rows, allow_nan=False) if args.json else latest_table(rows))
    return 0


def _quarantine(args: argparse.Namespace) -> int:
    settings = StorageSettings.from_env()
    from marketdata_assets.stores import lake_store
    from marketdata_assets.tick.views import quarantine_records, quarantine_table

    tick = parse_tick(args.tick, "--tick", window_s=FUTURE_WINDOW_S) if args.tick else None
    records = read(lambda: quarantine_records(lake_store(settings), tick))
    if records is None:
        return 1
    print(json.dumps(records, allow_nan=False) if args.json else quarantine_table(records))
    return 0
