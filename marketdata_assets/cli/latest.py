"""`marketdata latest` and `marketdata quarantine`: the latest-price table and quarantined rows
(the ticks', or with --history the history's)."""

from __future__ import annotations

import argparse
import json

from marketdata_assets.cli.common import Commands, command, read
from marketdata_assets.errors import ConfigError
from marketdata_assets.market import params
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
        "list quarantined rows: the ticks', or with --history the history's",
        "marketdata quarantine --tick 2026-11-25T14:31Z --json",
    )
    quarantine.add_argument("--tick", help="only this tick minute")
    quarantine.add_argument(
        "--history",
        action="store_true",
        help="the history rows the bars gate refused (bars_quarantine), newest session first",
    )
    quarantine.add_argument(
        "--from",
        dest="first",
        metavar="YYYY-MM-DD",
        help="with --history: first session (default: the 5th session up to --to)",
    )
    quarantine.add_argument(
        "--to",
        dest="last",
        metavar="YYYY-MM-DD",
        help="with --history: last session (default: the newest held)",
    )
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

    if args.history:
        return _history_quarantine(args, settings)
    if args.first or args.last:
        flag = "--from" if args.first else "--to"
        raise ConfigError(f"{flag}: reads the history's quarantine only; add --history")
    tick = parse_tick(args.tick, "--tick", window_s=FUTURE_WINDOW_S) if args.tick else None
    records = read(lambda: quarantine_records(lake_store(settings), tick))
    if records is None:
        return 1
    print(json.dumps(records, allow_nan=False) if args.json else quarantine_table(records))
    return 0


def _history_quarantine(args: argparse.Namespace, settings: StorageSettings) -> int:
    if args.tick:
        raise ConfigError(
            "--tick and --history: a tick's rows or the history's, not both; drop one"
        )
    first, last = params.session_range(args.first, args.last, ("--from", "--to"))
    from marketdata_assets.history.quarantined import quarantined_bars, quarantined_table
    from marketdata_assets.stores import lake_store

    answer = read(lambda: quarantined_bars(lake_store(settings), first, last))
    if answer is None:
        return 1
    print(json.dumps(answer.rows, allow_nan=False) if args.json else quarantined_table(answer))
    return 0
