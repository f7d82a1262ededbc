"""The lake's table schemas, each defined once: its columns, their Arrow types and meanings.

A table is a tuple of `Column`s; `arrow_schema` gives its Arrow schema (pyarrow is imported only
then, so the registry stays cheap to import on the tick's cold path). The code works in pandas:
`pandas_dtypes` gives each column's dtype as a stored frame holds it (`str`, `int64`, `Int64` for
a nullable integer, `datetime64[us, UTC]`, naive `datetime64[us]` for a date at midnight). An
integer or boolean column is non-nullable unless pandas holds it as a nullable dtype; strings,
floats and timestamps may be null.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

UTC_TIME = "timestamp[us, tz=UTC]"
NAIVE_TIME = "timestamp[us]"  # a naive midnight: a date (New York's session, a trading day)
STRINGS = "list<string>"
# Arrow type name -> (pandas dtype when nullable, when not, Glue type).
_TYPES = {
    "string": ("str", "str", "string"),
    "int64": ("Int64", "int64", "bigint"),
    "double": ("float64", "float64", "double"),
    "bool": ("boolean", "bool", "boolean"),
    UTC_TIME: ("datetime64[us, UTC]", "datetime64[us, UTC]", "timestamp"),
    NAIVE_TIME: ("datetime64[us]", "datetime64[us]", "timestamp"),
    STRINGS: ("object", "object", "array<string>"),
}


class Column(NamedTuple):
    """One column of a table: its name, Arrow type, meaning and whether it may be null."""

    name: str
    type: str  # an Arrow type's name: string, int64, double, bool, timestamp[us], list<string>
    description: str
    nullable: bool = True


Table = tuple[Column, ...]


def column(name: str, kind: str, description: str) -> Column:
    """A column that may be null."""
    if kind not in _TYPES:
        raise ValueError(f"column {name} of type {kind}: must be one of {', '.join(_TYPES)}")
    return Column(name, kind, description)


def required(name: str, kind: str, description: str) -> Column:
    """A column never null (an integer or boolean pandas holds as int64 or bool)."""
    return column(name, kind, description)._replace(nullable=False)


def pandas_dtypes(table: Table) -> dict[str, str]:
    """Column -> pandas dtype of every column of `table`, in order."""
    return {c.name: _TYPES[c.type][0 if c.nullable else 1] for c in table}


def glue_columns(table: Table) -> list[list[str]]:
    """[column, Glue type] of every column of `table`, as Athena reads its Parquet."""
    return [[c.name, _TYPES[c.type][2]] for c in table]


@cache
def arrow_schema(table: Table, described: bool = True) -> pa.Schema:
    """`table` as an Arrow schema, each field's description in its metadata (`described`) or
    none (as objects are written: no per-object text)."""
    import pyarrow as pa

    kinds = {
        "string": pa.string(),
        "int64": pa.int64(),
        "double": pa.float64(),
        "bool": pa.bool_(),
        UTC_TIME: pa.timestamp("us", tz="UTC"),
        NAIVE_TIME: pa.timestamp("us"),
        STRINGS: pa.list_(pa.string()),
    }
    return pa.schema(
        pa.field(
            c.name, kinds[c.type], c.nullable, {"description": c.description} if described else None
        )
        for c in table
    )


def conform(table: pa.Table, columns: Table) -> pa.Table:
    """`table` with each column that Arrow typed `null` (all-null or empty: pandas holds a
    list column as objects, whose type an empty frame does not tell) cast to its registered
    type, so an object keeps its schema whatever rows it holds; other columns as they are."""
    import pyarrow as pa

    schema = arrow_schema(columns, described=False)
    for index, found in enumerate(table.schema):
        if found.name in schema.names and _holds_null_type(found.type):
            wanted = schema.field(found.name).type
            table = table.set_column(
                index, pa.field(found.name, wanted), table.column(index).cast(wanted)
            )
    return table


def _holds_null_type(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return pa.types.is_null(kind) or (pa.types.is_list(kind) and pa.types.is_null(kind.value_type))


def dtype_violations(frame: pd.DataFrame, schema: Table | Mapping[str, str]) -> list[str]:
    """Columns missing, unexpected or of another dtype than `schema` (or column -> dtype)."""
    expected = schema if isinstance(schema, Mapping) else pandas_dtypes(schema)
    problems = [f"missing column {name}" for name in expected if name not in frame]
    problems += [f"unexpected column {name}" for name in frame if name not in expected]
    problems += [
        f"column {name} is {frame[name].dtype}, expected {dtype}"
        for name, dtype in expected.items()
        if name in frame and str(frame[name].dtype) != dtype
    ]
    return problems


# The minute tick. Each column has one meaning whatever the provider (see `tick.curation`).
_TICK_COLUMNS = (
    required("line", "int64", "The raw record's line number in its tick's payload, from 1."),
    required("parsed", "bool", "Whether the line held a JSON record at all."),
    column("symbol", "string", "The ticker, upper-cased; null when unreadable."),
    column("price", "double", "The last price; null when unreadable."),
    column(
        "day_volume",
        "int64",
        "Shares traded in the session up to event_ts (cumulative); null when unknown.",
    ),
    column("currency", "string", "The price's ISO currency code."),
    column("event_ts", UTC_TIME, "When the provider observed the price (UTC)."),
    column("exchange", "string", "The listing venue as the provider names it."),
    column("exchange_tz", "string", "The venue's IANA time zone; null unless a known zone."),
    column("trading_day", NAIVE_TIME, "The venue's session date the quote belongs to."),
    column("tick", UTC_TIME, "The tick minute (UTC) the row was fetched for."),
)
CURATED_TICKS: Table = _TICK_COLUMNS
# A validated row keeps every curated column but `parsed` (true for every one of them).
VALIDATED_TICKS: Table = tuple(c for c in CURATED_TICKS if c.name != "parsed")
QUARANTINED_TICKS: Table = (
    column("tick", UTC_TIME, "The tick minute (UTC) the row was fetched for."),
    required("line", "int64", "The raw record's line number in its tick's payload."),
    column("reasons", STRINGS, "Every reason code the row failed."),
    column("record", "string", "The original JSON object, as sent."),
    column("raw", "string", "The original text, when the line was not a JSON object."),
)
PRICE_REFERENCE: Table = (
    column("symbol", "string", "The ticker."),
    column("price", "double", "The last accepted price."),
    column("pending_price", "double", "The level rows jumped to, awaiting confirmation."),
    required("pending_ticks", "int64", "Consecutive ticks that agreed on that level."),
    column("pending_tick", UTC_TIME, "The last of them."),
    column(
        "event_ts",
        UTC_TIME,
        "The event time of the symbol's newest validated price (the one the latest table was "
        "given); null in references written before it was kept.",
    ),
    column(
        "written_tick",
        UTC_TIME,
        "The tick that gave the latest table that price; a later tick passing the same price "
        "and event time leaves the table alone (latest_unchanged).",
    ),
)

# History: one object per NYSE session.
_SYMBOL = column("symbol", "string", "The ticker.")
_SESSION = column("session", NAIVE_TIME, "The NYSE session (a New York date at midnight).")
_OHLC = (
    column("open", "double", "The first trade's price."),
    column("high", "double", "The highest price."),
    column("low", "double", "The lowest price."),
    column("close", "double", "The last trade's price."),
)
_SOURCE = column("source", "string", 'The provider (or "file") the row came from.')
MINUTE_BARS: Table = (
    _SYMBOL,
    column("start", UTC_TIME, "The bar's first instant (UTC)."),
    column("interval", "string", "The bar's length: 1m, or 1d for a provider's daily bar."),
    *_OHLC,
    required("volume", "int64", "Shares traded within this bar only."),
    _SOURCE,
)
# What a history source's parser yields before the bars gate: one row per source row, as read.
# Values that cannot be read are null; volume stays float so a fractional or negative one can
# be judged.
_READ = {c.name: c._replace(nullable=True) for c in MINUTE_BARS if c.name != "volume"}
BAR_CANDIDATES: Table = (
    required("row", "int64", "The session's source row number (conservation counts them)."),
    *(_READ[name] for name in ("symbol", "start", "interval", "open", "high", "low", "close")),
    column("volume", "double", "The volume as read (fractional or negative is judged)."),
    _READ["source"],
    column("raw", "string", "The row's own text as received."),
    column("problem", "string", "A parse-level reason code (unparseable_ts), or null."),
)
BARS_QUARANTINE: Table = (
    *BAR_CANDIDATES,
    column("reasons", STRINGS, "Every reason code the row failed."),
    _SESSION,
)
_DAY_BAR = (
    _SYMBOL,
    _SESSION,
    *_OHLC,
    required("volume", "int64", "Shares traded in the session."),
    column("vwap", "double", "sum(typical price * volume) / sum(volume); null without volume."),
)
DAILY_BARS: Table = (
    *_DAY_BAR,
    required("minutes", "int64", "1-minute bars present."),
    column("first_minute", UTC_TIME, "The session's first 1-minute bar; null without one."),
    column("last_minute", UTC_TIME, "The session's last 1-minute bar; null without one."),
    _SOURCE,
)
SESSION_ANALYTICS: Table = (
    *_DAY_BAR,
    column("return", "double", "log(close / the previous session's close)."),
    column("overnight_return", "double", "log(open / the previous session's close)."),
    column("realized_vol", "double", "From 5-minute log returns in the session, * sqrt(252)."),
    column("range", "double", "(high - low) / close."),
    column("close_vs_vwap", "double", "close / vwap - 1."),
    column("rolling_vol_20", "double", "Std of the last 20 close-to-close returns * sqrt(252)."),
)

# Corporate actions: one object per NYSE session, the actions with that ex-date (see
# `history.actions_gate`); what a source's parser yields, then the gate's two outputs.
_EX_DATE = column("ex_date", NAIVE_TIME, "The ex-date: the first session traded without it.")
_KIND = column("kind", "string", "split or dividend.")
_VALUE = column("value", "double", "A split's new shares per old (4 for 4:1); a dividend's cash.")
_CURRENCY = column("currency", "string", "A dividend's ISO currency code.")
ACTION_CANDIDATES: Table = (
    required("row", "int64", "The session's source row number (conservation counts them)."),
    _SYMBOL, _EX_DATE, _KIND, _VALUE, _CURRENCY, _SOURCE,
    column("raw", "string", "The row's own text as received."),
    column("problem", "string", "A parse-level reason code (unparseable, unparseable_date)."),
)  # fmt: skip
CORPORATE_ACTIONS: Table = (
    _SYMBOL, _EX_DATE, _KIND, _VALUE, _CURRENCY, _SOURCE,
    column("ingested_at", UTC_TIME, "The close of the session whose landed history held it."),
)  # fmt: skip
ACTIONS_QUARANTINE: Table = (
    *ACTION_CANDIDATES,
    column("reasons", STRINGS, "Every reason code the row failed."),
    _SESSION,
)

# Forecasts: one object per NYSE session, as of its close (see `forecasting`).
_HORIZON = column("horizon", "string", "The horizon: 1m, 5m, 15m or 1d (next session's close).")
FORECAST_SKILL: Table = (
    _HORIZON,
    column("symbol", "string", 'The ticker, or "*" for every symbol\'s forecasts pooled.'),
    required("n", "int64", "The out-of-sample forecasts the row is measured on."),
    column("model", "string", "The model evaluated (naive among them)."),
    column("mae", "double", "The mean absolute error, in price."),
    column("rmse", "double", "The root mean squared error, in price."),
    column("mase", "double", "mean(|error| / the symbol's in-sample one-step naive MAE)."),
    column("relative_mae", "double", "MAE / naive's MAE on the same origins (skill = 1 - it)."),
    column(
        "directional_accuracy",
        "double",
        "The share of forecasts calling the actual's direction, where both moved; null for naive.",
    ),
    column(
        "directional_accuracy_se",
        "double",
        "Its standard error, sqrt(p (1 - p) / the forecasts where both moved).",
    ),
    column(
        "dm_pvalue",
        "double",
        "The Diebold-Mariano two-sided p-value against naive (absolute errors); null for naive.",
    ),
    column("coverage", "double", "The share of actuals inside the 80 % interval."),
)
PRICE_FORECASTS: Table = (
    column("symbol", "string", "The ticker."),
    _HORIZON,
    column("origin", UTC_TIME, "The instant forecast from: the end of the symbol's last bar."),
    column("served_model", "string", "The model served: the best if it beats naive, else naive."),
    column("reason", "string", "Why that model is served, in words."),
    column("forecast", "double", "The forecast price at the horizon."),
    column("lower", "double", "The 80 % interval's lower bound."),
    column("upper", "double", "The 80 % interval's upper bound."),
    required(
        "n",
        "int64",
        "The forecasts the served model was evaluated on for the symbol and horizon (0: none).",
    ),
    column("coverage", "double", "Their share inside its 80 % interval; null when n is 0."),
)

# The tables as pandas dtypes (column -> dtype), as the code frames their rows.
BAR_SCHEMA: dict[str, str] = pandas_dtypes(MINUTE_BARS)  # `minute_bars`
# What a history source's parser yields before the bars gate.
BAR_CANDIDATE_SCHEMA: dict[str, str] = pandas_dtypes(BAR_CANDIDATES)
DAILY_BAR_SCHEMA: dict[str, str] = pandas_dtypes(DAILY_BARS)  # `daily_bars`
SESSION_ANALYTICS_SCHEMA: dict[str, str] = pandas_dtypes(SESSION_ANALYTICS)
