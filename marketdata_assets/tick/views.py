"""Read-side views for people and scripts: the latest-price table and quarantine records.

Neither Dagster nor Great Expectations is on this path: the views read the stores they are given.
"""

from __future__ import annotations

import json
import math
import shlex
from datetime import UTC, datetime

import pandas as pd

from marketdata_assets.lake import (
    DATASETS,
    ObjectStore,
    object_key,
    object_keys,
    present_key,
    tick_prefix,
)
from marketdata_assets.lake.codecs import decode
from marketdata_assets.latest import LatestPrice, LatestPriceStore
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.providers import registry


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def latest_rows(table: LatestPriceStore) -> list[dict[str, object]]:
    """The latest-price table as JSON-ready rows."""
    return [latest_row(row) for row in table.all()]


def latest_row(row: LatestPrice) -> dict[str, object]:
    """One latest price as a JSON-ready row."""
    return {
        "symbol": row.symbol,
        "price": row.price,
        "currency": row.currency,
        "event_ts": _iso(row.event_ts),
        "tick": format_tick(row.tick),
    }


def latest_table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(the latest-price table is empty: run `marketdata tick` first)"
    header = f"{'SYMBOL':<8} {'PRICE':>12} {'CCY':<4} {'EVENT_TS':<28} TICK"
    lines = [
        f"{r['symbol']:<8} {r['price']:>12.4f} {r['currency']:<4} {r['event_ts']:<28} {r['tick']}"
        for r in rows
    ]
    return "\n".join([header, *lines])


def quarantine_records(lake: ObjectStore, tick: datetime | None) -> list[dict[str, object]]:
    """Quarantined rows (of one tick, or all) with their reasons and original record."""
    prefix = tick_prefix("quarantine", tick) if tick else "quarantine/"
    records: list[dict[str, object]] = []
    for key in lake.keys(prefix):
        if key.endswith(DATASETS["quarantine"].file):
            records += quarantine_object_records(lake.get(key), key)
    return records


def quarantine_object_records(body: bytes, key: str | None = None) -> list[dict[str, object]]:
    """The records of one quarantine object: tick, line, reasons, and the source record as
    JSON (`record`) or, when it was no JSON object, its text (`raw`)."""
    frame = decode("quarantine", body, key)
    assert isinstance(frame, pd.DataFrame)
    records: list[dict[str, object]] = []
    for row in frame.itertuples(index=False):
        record: dict[str, object] = {
            "tick": format_tick(row.tick.to_pydatetime()),
            "line": int(row.line),
            "reasons": list(row.reasons),
        }
        if isinstance(row.record, str):
            record["record"] = strict_json(row.record)
        else:
            record["raw"] = row.raw
        records.append(record)
    return records


def replay_command(lake: ObjectStore, tick: datetime) -> str:
    """The command that reruns `tick` on its landed raw object, ready to paste into a shell."""
    source = lake.location(present_key(lake, object_keys("raw", tick)) or object_key("raw", tick))
    provider = registry.replay_provider()
    return (
        f"marketdata tick --provider {provider} --source {shlex.quote(source)} "
        f"--at {format_tick(tick)}"
    )


def forecast_verdict(served: dict[str, object]) -> str:
    """The forecast's verdict in words: which model is served for the symbol and horizon, and
    whether any beats naive ("no model beats naive for AAPL at 5 minutes: serving naive")."""
    from marketdata_assets.forecasting.horizons import horizon_words

    symbol, model = served["symbol"], served["served_model"]
    ahead = horizon_words(str(served["horizon"]))
    if model == "naive":
        return f"no model beats naive for {symbol} at {ahead}: serving naive"
    skill = served["skill"]
    assert isinstance(skill, list)
    best = next(row for row in skill if row["model"] == model)
    gain = 100 * (1 - best["relative_mae"])
    evidence = f"skill {gain:.1f} %, DM p = {p_value_text(best['dm_pvalue'])}"
    return f"{model} beats naive for {symbol} at {ahead} ({evidence}): serving {model}"


def fallback_line(served: dict[str, object]) -> str | None:
    """One line naming the models that forecast exactly as naive (their errors are naive's: too
    little history for their fits, so each fell back to naive) and why, else None."""
    from marketdata_assets.forecasting.windows import MIN_FIT_POINTS, MIN_ROWS

    skill = served["skill"]
    assert isinstance(skill, list)
    naive, *models = skill
    errors = (naive["mae"], naive["rmse"], 1.0)  # a model's own MAE over naive's is then 1
    same = [
        row["model"] for row in models if (row["mae"], row["rmse"], row["relative_mae"]) == errors
    ]
    if not same:
        return None
    names = ", ".join(same[:-1]) + (" and " if len(same) > 1 else "") + same[-1]
    unit = "session returns" if served["horizon"] == "1d" else "one-minute returns"
    return (
        f"{names} fell back to naive: too little history for their fits at {served['horizon']} "
        f"(ETS and ARIMA need {MIN_FIT_POINTS} {unit} before an origin, across the symbols "
        f"held; ridge and LightGBM {MIN_ROWS} training rows): backfill more sessions"
    )


def p_value_text(p: float | None) -> str:
    """A p-value as shown to people: three decimals, `<0.001` below that, `-` when undefined."""
    return "-" if p is None else "<0.001" if p < 0.001 else f"{p:.3f}"


def strict_json(text: str) -> object:
    """A source line's JSON value, with every number strict JSON cannot hold (a bare `NaN`,
    `Infinity` or `-Infinity`, which Python's json accepts, or a float that overflows such as
    `1e999`) kept as a string of its original text."""
    return json.loads(text, parse_constant=str, parse_float=_finite_or_text)


def _finite_or_text(text: str) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else text


def quarantine_table(records: list[dict[str, object]]) -> str:
    if not records:
        return "(no tick rows quarantined; `marketdata quarantine --history` lists the history's)"
    lines = []
    for r in records:
        original = json.dumps(r["record"]) if "record" in r else repr(r["raw"])
        reasons = ",".join(r["reasons"])  # type: ignore[arg-type]
        lines.append(f"{r['tick']} line {r['line']:<5} {reasons:<32} {original[:100]}")
    return "\n".join(lines)
