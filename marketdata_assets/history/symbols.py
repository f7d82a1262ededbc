"""The symbols the platform knows, and where each is held: configured (MARKETDATA_SYMBOLS), in
the latest-price table, in the history (`daily_bars`: its first and last session and how many it
holds). `marketdata symbols` and the dashboard's symbol search read it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from marketdata_assets.history.held import days_held
from marketdata_assets.lake import ObjectStore
from marketdata_assets.latest import LatestPriceStore

DATASET = "daily_bars"  # the smallest dataset holding every symbol of every session


def history_symbols(lake: ObjectStore) -> dict[str, list[date]]:
    """Each symbol of the history, with the sessions whose daily bars hold it (oldest first)."""
    keys = frozenset(lake.keys(f"{DATASET}/"))
    held: dict[str, list[date]] = {}
    for session, key in days_held(DATASET, keys).items():
        table = pq.read_table(pa.BufferReader(lake.get(key)), columns=["symbol"])
        for symbol in sorted({s for s in table.column("symbol").to_pylist() if s is not None}):
            held.setdefault(symbol, []).append(session)
    return held


def known_symbols(
    configured: Iterable[str], table: LatestPriceStore, lake: ObjectStore
) -> list[dict[str, object]]:
    """One row per known symbol, sorted: `symbol`, `configured`, `latest` (a row in the
    latest-price table), `history` ({"first", "last", "sessions"}, or null when none)."""
    configured = set(configured)
    latest = {price.symbol for price in table.all()}
    history = history_symbols(lake)
    return [
        {
            "symbol": symbol,
            "configured": symbol in configured,
            "latest": symbol in latest,
            "history": (
                {
                    "first": history[symbol][0].isoformat(),
                    "last": history[symbol][-1].isoformat(),
                    "sessions": len(history[symbol]),
                }
                if symbol in history
                else None
            ),
        }
        for symbol in sorted(configured | latest | set(history))
    ]


def symbols_table(rows: list[dict[str, object]]) -> str:
    """The rows for people: a line per symbol naming where it is held."""
    lines = [f"{'symbol':<10} {'configured':<10} {'latest':<6} history"]
    for row in rows:
        history = row["history"]
        held = (
            f"{history['first']}..{history['last']} ({history['sessions']} sessions)"
            if isinstance(history, dict)
            else "-"
        )
        configured = "yes" if row["configured"] else "-"
        latest = "yes" if row["latest"] else "-"
        lines.append(f"{row['symbol']!s:<10} {configured:<10} {latest:<6} {held}")
    return "\n".join(lines)
