"""History reads as the aligned text tables the CLI prints (times in New York)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from marketdata_assets.history.query import History, what_to_run
from marketdata_assets.market.calendar import EXCHANGE_TZ


def bars_table(history: History) -> str:
    """Bars as an aligned table, times in New York; an empty result says what to run."""
    if not history.rows:
        return what_to_run(history)
    header = f"{'SYMBOL':<8} {'START':<19} {'OPEN':>11} {'HIGH':>11} {'LOW':>11} {'CLOSE':>11}"
    lines = [f"{header} {'VOLUME':>12} {'VWAP':>11}"]
    for r in history.rows:
        prices = " ".join(_number(r[k], "11.4f") for k in ("open", "high", "low", "close"))
        start = _new_york(str(r["start"]))
        lines.append(
            f"{r['symbol']:<8} {start:<19} {prices} {r['volume']:>12} {_number(r['vwap'], '11.4f')}"
        )
    return "\n".join(lines)


def analytics_table(history: History) -> str:
    """Session analytics as an aligned table (returns and range in percent)."""
    if not history.rows:
        return what_to_run(history)
    prices = ("open", "high", "low", "close")
    shares = ("return", "overnight_return", "realized_vol", "range")
    header = " ".join(f"{k.upper():>11}" for k in prices)
    labels = " ".join(f"{label:>10}" for label in ("RETURN", "OVERNIGHT", "REALIZ.VOL", "RANGE"))
    lines = [f"{'SYMBOL':<8} {'SESSION':<10} {header} {'VOLUME':>12} {'VWAP':>11} {labels}"]
    for r in history.rows:
        cells = " ".join(_number(r[k], "11.4f") for k in prices)
        percents = " ".join(_percent(r[k]) for k in shares)
        lines.append(
            f"{r['symbol']:<8} {r['session']:<10} {cells} {r['volume']:>12} "
            f"{_number(r['vwap'], '11.4f')} {percents}"
        )
    return "\n".join(lines)


def _new_york(iso: str) -> str:
    moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(EXCHANGE_TZ))
    return f"{moment:%Y-%m-%d %H:%M} ET"


def _number(value: object, spec: str) -> str:
    width = int(spec.split(".")[0])
    return format(value, spec) if isinstance(value, int | float) else "-".rjust(width)


def _percent(value: object) -> str:
    return f"{value * 100:>+9.2f}%" if isinstance(value, int | float) else "-".rjust(10)
