"""`marketdata actions`: a symbol's corporate actions, as the actions gate stored them."""

from __future__ import annotations

import argparse
import json

from marketdata_assets.cli.common import Commands, command, read
from marketdata_assets.market import params
from marketdata_assets.settings import StorageSettings


def register(commands: Commands) -> None:
    """Add the `actions` command."""
    actions = command(
        commands,
        "actions",
        "list a symbol's splits and dividends from the history",
        "marketdata actions AAPL --from 2026-11-30 --to 2026-12-04",
    )
    actions.add_argument("symbol", metavar="SYMBOL", help="a ticker symbol, e.g. AAPL")
    actions.add_argument(
        "--from", dest="first", metavar="YYYY-MM-DD", help="first ex-date (default: the first held)"
    )
    actions.add_argument(
        "--to", dest="last", metavar="YYYY-MM-DD", help="last ex-date (default: the latest held)"
    )
    actions.add_argument("--json", action="store_true", help="print a JSON list")
    actions.set_defaults(handler=_actions)


def _actions(args: argparse.Namespace) -> int:
    settings = StorageSettings.from_env()
    symbol = params.typed_symbol(args.symbol, "SYMBOL")
    first, last = params.session_range(args.first, args.last, ("--from", "--to"))
    from marketdata_assets.history.adjusted import actions_frame, actions_rows, actions_table
    from marketdata_assets.stores import lake_store

    rows = read(lambda: actions_rows(actions_frame(lake_store(settings), symbol, first, last)))
    if rows is None:
        return 1
    print(json.dumps(rows, allow_nan=False) if args.json else actions_table(rows, symbol))
    return 0
