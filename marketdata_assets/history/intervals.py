"""What a history read computes: the bars of each interval, daily bars and session analytics,
each as the DuckDB SQL that builds it from its dataset's rows.

Intraday bars are built from `minute_bars` within each session, aligned to the session's open as
the NYSE calendar gives it (09:30 New York), so a session missing its first minutes still aligns
and no bin spans closed hours.
"""

from __future__ import annotations

from dataclasses import dataclass

# Minutes per bar of the intervals built from minute_bars; "1d" reads daily_bars.
MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}
BAR_FIELDS = ("symbol", "start", "open", "high", "low", "close", "volume", "vwap")
ANALYTICS_FIELDS = (
    *("symbol", "session", "open", "high", "low", "close", "volume", "vwap"),
    *("return", "overnight_return", "realized_vol", "range"),
)
# Sessions read when no first session is given, at 1d and by analytics (intraday: one).
DEFAULT_SESSIONS = 5

# `src` holds the dataset's rows of the sessions read, `sessions` their calendar bounds in µs;
# `{only}` becomes the symbol filter (a bound parameter), or TRUE for every symbol, and `{by}`
# the symbol ordering when every symbol is read. Timestamps
# are handled as µs since the epoch, so no time zone setting can shift them (a bar's start comes
# back as a naive UTC timestamp: `rows` writes it as ISO text); `num` turns NaN into null, as
# JSON needs.
NUM_MACRO = "CREATE MACRO num(x) AS CASE WHEN isnan(x) THEN NULL ELSE x END"
# Intraday answers hold 1-minute bars only: a provider's daily bar kept in minute_bars (a session
# it has no minutes of) is a daily bar, read at 1d (`query.bars` names such sessions).
_IN_SESSIONS = """
FROM src AS b JOIN sessions AS s ON s.day = epoch_us(b.start) // 86400000000
WHERE {only} AND b."interval" = '1m'
  AND epoch_us(b.start) >= s.open_us AND epoch_us(b.start) < s.close_us
"""
_MINUTE_SQL = f"""
SELECT b.symbol, make_timestamp(epoch_us(b.start)),
       num(b.open), num(b.high), num(b.low), num(b.close), b.volume,
       CASE WHEN b.volume > 0 THEN num((b.high + b.low + b.close) / 3) END
{_IN_SESSIONS} ORDER BY {{by}}b.start
"""
_AGGREGATE_SQL = f"""
WITH minutes AS (
    SELECT b.symbol, b.start AS minute, b.open, b.high, b.low, b.close, b.volume,
           s.open_us + (epoch_us(b.start) - s.open_us) // $width * $width AS bucket
    {_IN_SESSIONS}
)
SELECT symbol, make_timestamp(bucket),
       num(arg_min(open, minute)), num(max(high)), num(min(low)), num(arg_max(close, minute)),
       sum(volume)::BIGINT,
       num(sum((high + low + close) / 3 * volume) / nullif(sum(volume), 0))
FROM minutes GROUP BY symbol, bucket ORDER BY {{by}}bucket
"""
_DAILY_SQL = """
SELECT b.symbol,
       make_timestamp(coalesce(epoch_us(b.first_minute), s.open_us)),
       num(b.open), num(b.high), num(b.low), num(b.close), b.volume, num(b.vwap)
FROM src AS b JOIN sessions AS s ON s.day = CAST(b.session AS DATE) - DATE '1970-01-01'
WHERE {only} ORDER BY {by}b.session
"""
_ANALYTICS_SQL = """
SELECT b.symbol, strftime(b.session, '%Y-%m-%d'), num(b.open), num(b.high), num(b.low),
       num(b.close), b.volume, num(b.vwap), num(b."return"), num(b.overnight_return),
       num(b.realized_vol), num(b."range")
FROM src AS b WHERE {only} ORDER BY {by}b.session
"""


@dataclass(frozen=True)
class Query:
    """One kind of history read: its name, the dataset it reads and the SQL over its rows."""

    name: str  # the interval, or "analytics"
    dataset: str
    sql: str
    fields: tuple[str, ...]
    back: int  # sessions read when no first session is given
    width_us: int | None = None  # aggregated bars: their width

    def params(self, symbol: str | None) -> dict[str, object]:
        """The SQL's bound parameters for `symbol` (None: every symbol)."""
        params: dict[str, object] = {} if symbol is None else {"symbol": symbol}
        if self.width_us is not None:
            params["width"] = self.width_us
        return params

    def sql_for(self, symbol: str | None) -> str:
        """The SQL reading `symbol`'s rows (None: every symbol's, ordered by symbol first: one
        symbol's need no string comparisons)."""
        if symbol is None:
            return self.sql.format(only="TRUE", by="symbol, ")
        return self.sql.format(only="b.symbol = $symbol", by="")


ANALYTICS = Query(
    "analytics", "session_analytics", _ANALYTICS_SQL, ANALYTICS_FIELDS, DEFAULT_SESSIONS
)


def bars_query(interval: str) -> Query:
    """The read of bars of `interval`; ValueError naming the intervals for any other."""
    if interval == "1d":
        return Query("1d", "daily_bars", _DAILY_SQL, BAR_FIELDS, DEFAULT_SESSIONS)
    if interval == "1m":
        return Query("1m", "minute_bars", _MINUTE_SQL, BAR_FIELDS, 1)
    if interval in MINUTES:
        width = MINUTES[interval] * 60_000_000
        return Query(interval, "minute_bars", _AGGREGATE_SQL, BAR_FIELDS, 1, width)
    raise ValueError(f"interval {interval!r}: must be one of {', '.join(MINUTES)}, 1d")
