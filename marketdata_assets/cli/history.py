"""`marketdata bars`, `analytics` and `backfill`: read the history, and run it over a range."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from marketdata_assets.cli.common import QUIET, Commands, check_writable, command, instance, read
from marketdata_assets.errors import ConfigError
from marketdata_assets.market import params
from marketdata_assets.market.backfill_range import refusal
from marketdata_assets.market.records import ADJUSTMENTS, INTERVALS
from marketdata_assets.providers import registry
from marketdata_assets.settings import Settings, StorageSettings, parse_symbols

if TYPE_CHECKING:
    from marketdata_assets.history.query import History


def register(commands: Commands) -> None:
    """Add the `bars`, `analytics` and `backfill` commands."""
    bars = command(
        commands,
        "bars",
        "show a symbol's bars from the history",
        "marketdata bars AAPL --interval 5m --from 2026-11-20 --to 2026-11-20",
    )
    bars.add_argument(
        "--interval", default="1m", help=f"one of {', '.join(INTERVALS)} (default: 1m)"
    )
    bars.set_defaults(handler=_bars)
    analytics = command(
        commands,
        "analytics",
        "show a symbol's session analytics",
        "marketdata analytics AAPL --from 2026-11-16 --to 2026-11-20",
    )
    analytics.set_defaults(handler=_analytics)
    first_default = {
        bars: "--to; at 1d the 5th session up to --to",
        analytics: "the 5th session up to --to",
    }
    for reader, default in first_default.items():
        # Values stay text here: checked by the platform's rules, one error line each.
        reader.add_argument("symbol", metavar="SYMBOL", help="a ticker symbol, e.g. AAPL")
        reader.add_argument(
            "--from", dest="first", metavar="YYYY-MM-DD", help=f"first session (default: {default})"
        )
        reader.add_argument(
            "--to",
            dest="last",
            metavar="YYYY-MM-DD",
            help="last session (default: the latest held)",
        )
        reader.add_argument(
            "--adjust",
            default="splits",
            help=f"for corporate actions: one of {', '.join(ADJUSTMENTS)} (default: splits, "
            "as most charts show; none: as traded)",
        )
        reader.add_argument("--json", action="store_true", help="print a JSON list")

    backfill = command(
        commands,
        "backfill",
        "run the history over the NYSE sessions of a range (resumable)",
        "marketdata backfill --from 2026-11-16 --to 2026-11-20 --symbols AAPL,MSFT",
    )
    backfill.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    backfill.add_argument("--symbols", help="comma-separated symbols (default: MARKETDATA_SYMBOLS)")
    backfill.add_argument(
        "--provider",
        help=f"{registry.choices(registry.history_sources())} (default: MARKETDATA_PROVIDER)",
    )
    backfill.add_argument("--source", help="file: a CSV or Parquet file of bars")
    backfill.add_argument("--actions", help="file: a CSV or Parquet file of splits and dividends")
    backfill.add_argument(
        "--force", action="store_true", help="redo sessions (and symbols) already done"
    )
    backfill.add_argument("--json", action="store_true", help="print one JSON object")
    backfill.set_defaults(handler=_backfill)


def _bars(args: argparse.Namespace) -> int:
    settings = StorageSettings.from_env()
    symbol, first, last = _history_range(args)
    params.interval(args.interval, "--interval")
    adjust = params.adjustment(args.adjust, "--adjust")
    from marketdata_assets.history import query, tables
    from marketdata_assets.history.adjusted import adjusted_bars
    from marketdata_assets.stores import lake_store

    def bars() -> History:
        lake = lake_store(settings)
        found = query.bars(lake, symbol, args.interval, first, last)
        return adjusted_bars(lake, found, adjust)

    history = read(bars)
    # Sessions held only as daily bars: named on stderr (stdout keeps the table or the JSON list).
    if history is not None and (note := query.daily_only_note(history)):
        print(f"marketdata: note: {note}", file=sys.stderr)
    return _print_history(args, history, tables.bars_table)


def _analytics(args: argparse.Namespace) -> int:
    settings = StorageSettings.from_env()
    symbol, first, last = _history_range(args)
    adjust = params.adjustment(args.adjust, "--adjust")
    from marketdata_assets.history import query, tables
    from marketdata_assets.history.adjusted import adjusted_analytics
    from marketdata_assets.stores import lake_store

    def analytics() -> History:
        lake = lake_store(settings)
        found = query.analytics(lake, symbol, first, last)
        return adjusted_analytics(lake, found, adjust)

    history = read(analytics)
    return _print_history(args, history, tables.analytics_table)


def _backfill(args: argparse.Namespace) -> int:
    # Every input is checked, and the plan made, before anything is written.
    settings = Settings.from_env()
    first = params.session_day(args.first, "--from")
    last = params.session_day(args.last, "--to")
    assert first and last  # both flags are required
    if (why := refusal(first, last)) is not None:  # before the first session, closed, ahead
        raise ConfigError(why)
    symbols = list(parse_symbols(args.symbols, "--symbols")) if args.symbols else None
    if "log_level" not in settings.model_fields_set:
        settings = settings.with_overrides(log_level=QUIET)
    provider = args.provider or settings.provider
    # before the folder is made
    registry.check_history_options(provider, source=args.source, actions=args.actions)
    check_writable(settings)

    from marketdata_assets.execution import backfill, downstream

    plan = backfill.plan(
        settings, first, last, symbols, provider, args.source, args.force, args.actions
    )
    dagster_instance = instance(settings)  # made (with its dagster.yaml) once the plan holds
    if plan.sessions and not plan.todo:
        names = ", ".join(plan.symbols)
        done = (
            f"the session {plan.sessions[0]} is done for {names}: nothing to run (--force "
            "redoes it)"
            if len(plan.sessions) == 1
            else f"all {len(plan.sessions)} sessions are done for {names}: nothing to run "
            "(--force redoes them)"
        )
        print(done, file=sys.stderr)
    summary = backfill.run(settings, plan, dagster_instance, sys.stderr, args.force)
    if args.json:
        print(json.dumps(summary.as_dict()))
        for note in backfill.shown_notes(summary.notes):
            print(f"marketdata: note: {note}", file=sys.stderr)
    else:
        print(backfill.summary_text(summary, plan))
        if line := downstream.refreshed_line(summary.refreshed):
            print(line)
    return 1 if summary.failed else 0


def _history_range(args: argparse.Namespace) -> tuple[str, date | None, date | None]:
    """The symbol and dates of a history read, checked before DuckDB or pyarrow is imported."""
    symbol = params.typed_symbol(args.symbol, "SYMBOL")
    return symbol, *params.session_range(args.first, args.last, ("--from", "--to"))


def _print_history(
    args: argparse.Namespace, history: History | None, table: Callable[[History], str]
) -> int:
    if history is None:
        return 1
    print(json.dumps(history.rows, allow_nan=False) if args.json else table(history))
    return 0
