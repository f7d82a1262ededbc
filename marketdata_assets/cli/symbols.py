"""`marketdata symbols`: the known symbols and where each is held; `marketdata symbols remove
SYMBOL` deletes a symbol's row from the latest-price table (a typo'd `--symbols ZZZZ` would
otherwise stay there). The lake is never rewritten: the history keeps what it holds."""

from __future__ import annotations

import argparse
import json

from marketdata_assets.cli.common import Commands, command, fail, read
from marketdata_assets.errors import ConfigError
from marketdata_assets.market import params
from marketdata_assets.settings import Settings


def register(commands: Commands) -> None:
    """Add the `symbols` command and its `remove` action."""
    symbols = command(
        commands,
        "symbols",
        "list the known symbols (configured, latest table, history), or remove one",
        "marketdata symbols --json",
    )
    symbols.add_argument("--json", action="store_true", help="print a JSON list")
    symbols.set_defaults(handler=_list)
    actions = symbols.add_subparsers(dest="action", parser_class=type(symbols))
    remove = command(
        actions,
        "remove",
        "remove a symbol's row from the latest-price table (the lake is never rewritten)",
        "marketdata symbols remove ZZZZ",
    )
    remove.add_argument("symbol", metavar="SYMBOL", help="the symbol, e.g. ZZZZ")
    remove.set_defaults(handler=_remove)


def _list(args: argparse.Namespace) -> int:
    from marketdata_assets.history.symbols import known_symbols, symbols_table
    from marketdata_assets.stores import lake_store, latest_store

    settings = Settings.from_env()
    rows = read(
        lambda: known_symbols(settings.symbols, latest_store(settings), lake_store(settings))
    )
    if rows is None:
        return 1
    print(json.dumps(rows) if args.json else symbols_table(rows))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from marketdata_assets.stores import latest_store

    settings = Settings.from_env()
    symbol = params.typed_symbol(args.symbol, "SYMBOL")
    table = latest_store(settings)
    removed = read(lambda: table.remove(symbol))
    if removed is None:
        return 1
    if not removed:
        held = read(lambda: [price.symbol for price in table.all()]) or []
        known = ", ".join(held) if held else "none"
        return fail(
            ConfigError(
                f"SYMBOL {symbol!r}: not in the latest-price table (it holds: {known}); "
                "nothing was removed"
            ),
            2,
        )
    print(f"removed {symbol} from the latest-price table (the lake's history is kept)")
    return 0
