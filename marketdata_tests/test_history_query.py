"""`marketdata bars` and `marketdata analytics`: the history read back through DuckDB.

Bars are checked against an independent regrouping in pandas (buckets from New York wall-clock
time, not from the calendar the query uses), on realistic minute bars: a regular week, the
early close after Thanksgiving, a session missing its first minutes and a block of minutes, and
a zero-volume stretch.
"""

from __future__ import annotations

import io
import json
import math
import re
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.cli import main
from marketdata_assets.history.intervals import ANALYTICS_FIELDS, BAR_FIELDS
from marketdata_assets.history.query import analytics, bars
from marketdata_assets.history.tables import bars_table
from marketdata_assets.lake import day_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.lake.schemas import BAR_SCHEMA, DAILY_BAR_SCHEMA, SESSION_ANALYTICS_SCHEMA
from marketdata_assets.market.calendar import session_bounds, session_minutes
from marketdata_assets.stores import local_lake

SYMBOLS = ("AAPL", "MSFT")
EARLY_CLOSE = date(2026, 11, 27)  # the day after Thanksgiving: 09:30-13:00 New York
GAPPED = date(2026, 11, 24)  # no 09:30-09:36 minutes, no 11:00-11:04 minutes
QUIET = date(2026, 11, 25)  # AAPL trades nothing 10:00-10:04
SESSIONS = (date(2026, 11, 23), GAPPED, QUIET, EARLY_CLOSE)
DAILY_ONLY = date(2026, 11, 20)  # daily_bars and session_analytics, no minute bars
DAILY_ONLY_NOTE = (
    "marketdata: note: 1 session(s) held only as daily bars, not in this answer: "
    "2026-11-20 (--interval 1d reads them)\n"
)
NEW_YORK = "America/New_York"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$")


def minute_bars(
    day: date, symbol: str, seed: int, drop: frozenset[int] = frozenset()
) -> pd.DataFrame:
    """A random walk of 1-minute bars over the session's minutes, without positions `drop`."""
    rng = np.random.default_rng(seed)
    minutes = session_minutes(day)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, len(minutes))))
    opened = np.concatenate([[close[0] * (1 + rng.normal(0, 0.001))], close[:-1]])
    wick = np.abs(rng.normal(0, 0.0005, (2, len(minutes))))
    volume = rng.integers(0, 5_000, len(minutes))
    volume[rng.random(len(minutes)) < 0.03] = 0
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "start": minutes,
            "interval": "1m",
            "open": opened,
            "high": np.maximum(opened, close) * (1 + wick[0]),
            "low": np.minimum(opened, close) * (1 - wick[1]),
            "close": close,
            "volume": volume,
            "source": "file",
        }
    )
    keep = [i for i in range(len(frame)) if i not in drop]
    return frame.iloc[keep].astype(BAR_SCHEMA).reset_index(drop=True)


def session_frame(day: date) -> pd.DataFrame:
    frames = []
    for n, symbol in enumerate(SYMBOLS):
        drop = frozenset(range(7)) | frozenset(range(90, 95)) if day == GAPPED else frozenset()
        frame = minute_bars(day, symbol, seed=day.toordinal() * 10 + n, drop=drop)
        if day == QUIET and symbol == "AAPL":
            frame.loc[30:34, "volume"] = 0
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def daily_rows(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    """daily_bars of one session's minute bars, as the history assets define them."""
    typical = (frame.high + frame.low + frame.close) / 3 * frame.volume
    groups = frame.assign(tv=typical).groupby("symbol", sort=True)
    daily = groups.agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        tv=("tv", "sum"),
        minutes=("start", "size"),
        first_minute=("start", "min"),
        last_minute=("start", "max"),
    ).reset_index()
    daily["vwap"] = (daily.tv / daily.volume).where(daily.volume > 0)
    daily["session"] = pd.Timestamp(day)
    daily["source"] = "file"
    return daily[list(DAILY_BAR_SCHEMA)].astype(DAILY_BAR_SCHEMA)


def daily_only_rows() -> pd.DataFrame:
    """A session known only from a daily source: no minutes, no first minute."""
    row = {"symbol": "AAPL", "session": pd.Timestamp(DAILY_ONLY), "open": 99.0, "high": 101.0}
    row |= {"low": 98.5, "close": 100.5, "volume": 1_000_000, "vwap": 100.1, "minutes": 0}
    row |= {"source": "file"}
    none = pd.Series([None], dtype=DAILY_BAR_SCHEMA["first_minute"])
    frame = pd.DataFrame([row]).assign(first_minute=none, last_minute=none)
    return frame[list(DAILY_BAR_SCHEMA)].astype(DAILY_BAR_SCHEMA)


def analytics_rows(daily: pd.DataFrame) -> pd.DataFrame:
    """session_analytics from daily bars (returns against the previous session; NaN first)."""
    frames = []
    for _, rows in daily.sort_values(["symbol", "session"]).groupby("symbol"):
        previous = rows.close.shift()
        frames.append(
            rows.assign(
                **{
                    "return": np.log(rows.close / previous),
                    "overnight_return": np.log(rows.open / previous),
                    "realized_vol": np.linspace(0.1, 0.3, len(rows)),
                    "range": (rows.high - rows.low) / rows.close,
                    "close_vs_vwap": rows.close / rows.vwap - 1,
                    "rolling_vol_20": np.nan,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame[list(SESSION_ANALYTICS_SCHEMA)].astype(SESSION_ANALYTICS_SCHEMA)


def write_lake(root: Path) -> dict[date, pd.DataFrame]:
    """The history tables of every test session under `root`; returns the minute bars."""
    lake = local_lake(root)
    minutes = {day: session_frame(day) for day in SESSIONS}
    daily = {day: daily_rows(frame, day) for day, frame in minutes.items()}
    daily[DAILY_ONLY] = daily_only_rows()
    analytics = analytics_rows(pd.concat(daily.values(), ignore_index=True))
    for day, frame in minutes.items():
        lake.put(day_key("minute_bars", day), encode("minute_bars", frame))
    for day, frame in daily.items():
        lake.put(day_key("daily_bars", day), encode("daily_bars", frame))
        rows = analytics[analytics.session == pd.Timestamp(day)]
        lake.put(day_key("session_analytics", day), encode("session_analytics", rows))
    return minutes


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[date, pd.DataFrame]]:
    root = tmp_path_factory.mktemp("lake")
    return root, write_lake(root)


@pytest.fixture
def local(lake, monkeypatch: pytest.MonkeyPatch) -> dict[date, pd.DataFrame]:
    """The local profile on the test lake; returns its minute bars."""
    root, minutes = lake
    for name in ("MARKETDATA_PROFILE", "MARKETDATA_BUCKET", "MARKETDATA_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(root))
    return minutes


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def read_json(
    capsys: pytest.CaptureFixture[str], *args: str, note: str = ""
) -> list[dict[str, object]]:
    """The rows `args --json` prints, with exit 0 and `note` (default: nothing) on stderr."""
    code, out, err = run(capsys, *args, "--json")
    assert code == 0 and err == note, err
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def regrouped(frame: pd.DataFrame, symbol: str, minutes: int) -> list[dict[str, object]]:
    """Bars of `minutes` from 1-minute bars, bucketed on New York wall-clock time from 09:30."""
    bars = frame[frame.symbol == symbol].sort_values("start")
    local = bars.start.dt.tz_convert(NEW_YORK)
    since_open = local.dt.hour * 60 + local.dt.minute - 570
    offset = pd.to_timedelta(570 + since_open // minutes * minutes, unit="min")
    bucket = (local.dt.normalize() + offset).dt.tz_convert("UTC")
    typical = (bars.high + bars.low + bars.close) / 3 * bars.volume
    groups = bars.assign(bucket=bucket, tv=typical).groupby("bucket", sort=True)
    agg = groups.agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        tv=("tv", "sum"),
    )
    return [
        {
            "symbol": symbol,
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "open": row.open,
            "high": row.high,
            "low": row.low,
            "close": row.close,
            "volume": int(row.volume),
            "vwap": row.tv / row.volume if row.volume > 0 else None,
        }
        for start, row in agg.iterrows()
    ]


def assert_same_rows(got: list[dict[str, object]], expected: list[dict[str, object]]) -> None:
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert list(row) == list(want)
        for key, value in want.items():
            if isinstance(value, float):
                assert row[key] == pytest.approx(value, rel=1e-12), (key, row, want)
            else:
                assert row[key] == value, (key, row, want)


def new_york_times(rows: list[dict[str, object]]) -> list[str]:
    starts = pd.to_datetime([str(r["start"]) for r in rows], utc=True).tz_convert(NEW_YORK)
    return [f"{t:%Y-%m-%d %H:%M}" for t in starts]


@pytest.mark.domain
@pytest.mark.parametrize(("interval", "minutes"), [("1m", 1), ("5m", 5), ("15m", 15), ("1h", 60)])
def test_intraday_bars_equal_a_pandas_regrouping_on_new_york_buckets(
    local, capsys, interval: str, minutes: int
) -> None:
    first, last = SESSIONS[0], SESSIONS[-1]
    got = read_json(
        capsys, "bars", "AAPL", "--interval", interval, "--from", f"{first}", "--to", f"{last}"
    )
    expected = [row for day in SESSIONS for row in regrouped(local[day], "AAPL", minutes)]
    assert_same_rows(got, expected)
    assert {r["symbol"] for r in got} == {"AAPL"}


@pytest.mark.domain
def test_without_a_symbol_every_symbol_is_read_in_symbol_order(lake) -> None:
    root, minutes = lake
    got = bars(local_lake(root), None, "5m")
    assert (got.first, got.last) == (EARLY_CLOSE, EARLY_CLOSE)
    expected = [row for symbol in SYMBOLS for row in regrouped(minutes[EARLY_CLOSE], symbol, 5)]
    assert_same_rows(got.rows, expected)
    empty = replace(got, table=got.table.slice(0, 0))
    assert bars_table(empty).startswith("no history in 2026-11-27..2026-11-27: ")


@pytest.mark.domain
def test_hourly_bars_start_at_half_past_and_the_early_close_ends_at_one(local, capsys) -> None:
    regular = read_json(
        capsys, "bars", "MSFT", "--interval", "1h", "--from", "2026-11-23", "--to", "2026-11-23"
    )
    assert [t[11:] for t in new_york_times(regular)] == [f"{h:02}:30" for h in range(9, 16)]
    last_half_hour = local[SESSIONS[0]].query("symbol == 'MSFT'").iloc[-30:]
    assert regular[-1]["volume"] == last_half_hour.volume.sum()
    assert regular[-1]["close"] == last_half_hour.close.iloc[-1]

    early = read_json(
        capsys, "bars", "MSFT", "--interval", "1h", "--from", "2026-11-27", "--to", "2026-11-27"
    )
    assert new_york_times(early) == [f"2026-11-27 {h:02}:30" for h in (9, 10, 11, 12)]
    _, close = session_bounds(EARLY_CLOSE)
    assert f"{close.tz_convert(NEW_YORK):%H:%M}" == "13:00"
    last_bar = local[EARLY_CLOSE].query("symbol == 'MSFT'").iloc[-30:]
    assert f"{last_bar.start.iloc[0].tz_convert(NEW_YORK):%H:%M}" == "12:30"
    assert early[-1]["volume"] == last_bar.volume.sum()


@pytest.mark.domain
def test_a_session_missing_minutes_still_aligns_to_the_open_and_has_no_empty_bins(
    local, capsys
) -> None:
    day = ["--from", f"{GAPPED}", "--to", f"{GAPPED}"]
    hourly = read_json(capsys, "bars", "AAPL", "--interval", "1h", *day)
    five = read_json(capsys, "bars", "AAPL", "--interval", "5m", *day)
    first_minute = local[GAPPED].query("symbol == 'AAPL'").iloc[0]
    assert new_york_times(hourly)[0] == "2026-11-24 09:30"  # the calendar's open, not 09:37
    assert hourly[0]["open"] == first_minute.open
    times = new_york_times(five)
    assert times[0] == "2026-11-24 09:35" and "2026-11-24 11:00" not in times
    assert len(times) == 78 - 2  # 09:30 and 11:00 have no minute at all; nothing else missing
    assert all(r["volume"] is not None and r["open"] is not None for r in five)


@pytest.mark.domain
def test_vwap_is_the_typical_price_of_a_minute_and_null_without_volume(local, capsys) -> None:
    day = ["--from", f"{QUIET}", "--to", f"{QUIET}"]
    minutes = read_json(capsys, "bars", "AAPL", *day)
    quiet = [
        r for r in minutes if "2026-11-25 10:00" <= new_york_times([r])[0] < "2026-11-25 10:05"
    ]
    assert len(quiet) == 5 and all(r["volume"] == 0 and r["vwap"] is None for r in quiet)
    traded = [r for r in minutes if r["volume"]]
    for r in traded:
        typical = (float(r["high"]) + float(r["low"]) + float(r["close"])) / 3
        assert r["vwap"] == pytest.approx(typical, rel=1e-12)
    five = read_json(capsys, "bars", "AAPL", "--interval", "5m", *day)
    assert [r["vwap"] for r in five if new_york_times([r])[0].endswith("10:00")] == [None]


@pytest.mark.domain
def test_daily_bars_start_at_the_first_minute_or_at_the_open_without_minutes(local, capsys) -> None:
    daily = read_json(
        capsys, "bars", "AAPL", "--interval", "1d", "--from", "2026-11-20", "--to", "2026-11-27"
    )
    opened, _ = session_bounds(DAILY_ONLY)
    assert daily[0] == {
        "symbol": "AAPL",
        "start": f"{opened:%Y-%m-%dT%H:%M:%SZ}",
        "open": 99.0,
        "high": 101.0,
        "low": 98.5,
        "close": 100.5,
        "volume": 1_000_000,
        "vwap": 100.1,
    }
    for row, day in zip(daily[1:], SESSIONS, strict=True):
        aggregated = regrouped(local[day], "AAPL", 24 * 60)[0]  # the whole session as one bin
        first_minute = local[day].query("symbol == 'AAPL'").start.min()
        assert_same_rows([row], [aggregated | {"start": f"{first_minute:%Y-%m-%dT%H:%M:%SZ}"}])
    assert new_york_times(daily[2:3]) == ["2026-11-24 09:37"]


@pytest.mark.domain
def test_json_rows_keep_the_documented_keys_in_order_and_null_for_nan(local, capsys) -> None:
    span = ["--from", "2026-11-20", "--to", "2026-11-27"]
    for interval in ("1m", "1h", "1d"):
        rows = read_json(capsys, "bars", "MSFT", "--interval", interval, *span)
        assert rows and all(tuple(r) == BAR_FIELDS for r in rows)
        assert all(ISO.match(str(r["start"])) for r in rows)
    analytics = read_json(capsys, "analytics", "AAPL", *span)
    assert BAR_FIELDS[0] == ANALYTICS_FIELDS[0] == "symbol"
    assert [tuple(r) for r in analytics] == [ANALYTICS_FIELDS] * 5
    assert [r["session"] for r in analytics] == ["2026-11-20", *map(str, SESSIONS)]
    assert analytics[0]["return"] is None and analytics[0]["overnight_return"] is None
    closes = [float(r["close"]) for r in analytics]
    assert analytics[1]["return"] == pytest.approx(math.log(closes[1] / closes[0]))
    msft = read_json(capsys, "analytics", "MSFT", *span)
    assert [r["session"] for r in msft] == list(map(str, SESSIONS))  # no daily-only MSFT row


@pytest.mark.domain
def test_a_nan_stored_by_any_writer_reads_as_null(tmp_path: Path) -> None:
    day = SESSIONS[0]
    table = pa.Table.from_pandas(analytics_rows(daily_rows(session_frame(day), day)))
    nan = pa.array([math.nan] * table.num_rows)  # a NaN value, not a null
    table = table.set_column(table.schema.get_field_index("realized_vol"), "realized_vol", nan)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    assert pc.all(pc.is_nan(pq.read_table(io.BytesIO(sink.getvalue()))["realized_vol"])).as_py()
    local_lake(tmp_path).put(day_key("session_analytics", day), sink.getvalue())
    rows = analytics(local_lake(tmp_path), "MSFT", day, day).rows
    assert len(rows) == 1 and rows[0]["realized_vol"] is None and rows[0]["range"] is not None
    json.dumps(rows, allow_nan=False)


@pytest.mark.domain
def test_from_and_to_select_sessions_and_default_to_the_latest_held(local, capsys) -> None:
    two = read_json(
        capsys, "bars", "AAPL", "--interval", "1h", "--from", "2026-11-24", "--to", "2026-11-26"
    )
    assert sorted({t[:10] for t in new_york_times(two)}) == ["2026-11-24", "2026-11-25"]
    latest = read_json(capsys, "bars", "AAPL", "--interval", "1h")
    assert {t[:10] for t in new_york_times(latest)} == {"2026-11-27"}  # one session intraday
    from_only = read_json(capsys, "bars", "AAPL", "--interval", "1h", "--from", "2026-11-25")
    assert sorted({t[:10] for t in new_york_times(from_only)}) == ["2026-11-25", "2026-11-27"]
    to_only = read_json(capsys, "bars", "aapl", "--interval", "1h", "--to", "2026-11-24")
    assert {t[:10] for t in new_york_times(to_only)} == {"2026-11-24"}
    daily = read_json(capsys, "bars", "AAPL", "--interval", "1d")  # the last 5 sessions
    assert len(daily) == 5 and new_york_times(daily)[0].startswith("2026-11-20")
    weekly = read_json(capsys, "analytics", "AAPL", "--to", "2026-11-25")
    assert [r["session"] for r in weekly] == [
        "2026-11-20",
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
    ]


@pytest.mark.domain
def test_text_tables_show_new_york_times_with_the_zone(local, capsys) -> None:
    code, out, _ = run(capsys, "bars", "AAPL", "--interval", "1h", "--to", "2026-11-27")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == [
        "SYMBOL",
        "START",
        "OPEN",
        "HIGH",
        "LOW",
        "CLOSE",
        "VOLUME",
        "VWAP",
    ]
    assert [line.split()[1:4] for line in lines[1:]] == [
        ["2026-11-27", f"{h:02}:30", "ET"] for h in (9, 10, 11, 12)
    ]
    assert len({len(line) for line in lines}) == 1  # aligned columns
    code, out, _ = run(capsys, "analytics", "AAPL", "--from", "2026-11-20", "--to", "2026-11-23")
    first, second = out.splitlines()[1:]
    assert first.split()[:2] == ["AAPL", "2026-11-20"] and first.split()[-4:-2] == ["-", "-"]
    assert re.search(r" [+-]\d+\.\d\d%", second)


@pytest.mark.domain
@pytest.mark.parametrize("command", [["bars", "ZZZZ", "--interval", "5m"], ["analytics", "ZZZZ"]])
def test_an_empty_result_is_a_hint_or_an_empty_list(local, capsys, command: list[str]) -> None:
    span = ["--from", "2026-11-02", "--to", "2026-11-25"]
    code, out, err = run(capsys, *command, *span)
    assert code == 0 and err == ""
    assert out == (
        "no history for ZZZZ in 2026-11-02..2026-11-25: "
        "run `marketdata backfill --from 2026-11-02 --to 2026-11-25 --symbols ZZZZ`\n"
    )
    assert read_json(capsys, *command, *span) == []
    code, out, _ = run(capsys, "bars", "AAPL", "--from", "2026-11-02", "--to", "2026-11-19")
    assert code == 0 and out.startswith("no history for AAPL in 2026-11-02..2026-11-19: run `")


@pytest.mark.domain
@pytest.mark.parametrize(
    ("command", "said"),
    [
        (
            ["bars", "AAPL", "--interval", "1d", "--from", "2026-11-26", "--to", "2026-11-26"],
            "no history for AAPL in 2026-11-26..2026-11-26: 2026-11-26 is not an NYSE session "
            "(Thanksgiving); the nearest session a backfill can run is 2026-11-25: "
            "run `marketdata backfill --from 2026-11-25 --to 2026-11-25 --symbols AAPL`\n",
        ),
        (
            ["analytics", "AAPL", "--from", "2026-11-21", "--to", "2026-11-22"],
            "no history for AAPL in 2026-11-21..2026-11-22: no NYSE session in the range "
            "(2026-11-21 a Saturday, 2026-11-22 a Sunday); the nearest session a backfill can "
            "run is 2026-11-20: run `marketdata backfill --from 2026-11-20 --to 2026-11-20 "
            "--symbols AAPL`\n",
        ),
    ],
    ids=["holiday", "weekend"],
)
def test_a_range_of_closed_days_says_so_before_naming_the_nearest_backfill(
    local, capsys, command: list[str], said: str
) -> None:
    # The lake holds the session the hint names (its bars read): the backfill alone would read
    # as the fix, and it would do nothing.
    session = said.split("backfill --from ")[1][:10]
    span = ["--from", session, "--to", session]
    assert [row["symbol"] for row in read_json(capsys, "bars", "AAPL", "--interval", "1d", *span)]
    assert run(capsys, *command) == (0, said, "")


@pytest.mark.domain
def test_an_empty_lake_names_a_range_to_backfill(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("MARKETDATA_PROFILE", raising=False)
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "none"))
    code, out, _ = run(capsys, "analytics", "AAPL", "--to", "2026-11-27")
    assert code == 0 and out.startswith("no history for AAPL in 2026-11-20..2026-11-27: run `")
    assert not (tmp_path / "none").exists()


@pytest.mark.domain
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bars", "BRK/B"], "SYMBOL: 'BRK/B' is not a symbol (rule: "),
        (["analytics", "-"], "SYMBOL: '-' is not a symbol (rule: "),
        (
            ["bars", "AAPL", "--from", "2026-11-31"],
            "--from '2026-11-31': must be a date YYYY-MM-DD",
        ),
        (["bars", "AAPL", "--to", "20261125"], "--to '20261125': must be a date YYYY-MM-DD"),
        (
            ["analytics", "AAPL", "--to", "2026-W48-3"],
            "--to '2026-W48-3': must be a date YYYY-MM-DD",
        ),
        (
            ["analytics", "AAPL", "--from", "2026-11-25", "--to", "2026-11-02"],
            "--from '2026-11-25': must be on or before --to '2026-11-02'",
        ),
        (
            ["bars", "AAPL", "--interval", "2m"],
            "--interval '2m': must be one of 1m, 5m, 15m, 1h, 1d",
        ),
        (
            ["bars", "AAPL", "--interval", "1H"],
            "--interval '1H': must be one of 1m, 5m, 15m, 1h, 1d",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_input_and_the_rule_exit_2(
    local, capsys, args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"marketdata: error: {message}") and err.count("\n") == 1, err


@pytest.mark.domain
def test_the_read_api_refuses_an_unknown_interval(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^interval '90s': must be one of 1m, 5m, 15m, 1h, 1d$"):
        bars(local_lake(tmp_path), "AAPL", "90s")


@pytest.mark.domain
@settings(max_examples=25, deadline=None)
@given(
    day=st.sampled_from(SESSIONS),
    interval=st.sampled_from([("1m", 1), ("5m", 5), ("15m", 15), ("1h", 60)]),
    drop=st.frozensets(st.integers(0, 209), max_size=120),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_gaps_give_the_regrouped_bars_and_conserve_volume(
    day: date, interval: tuple[str, int], drop: frozenset[int], seed: int
) -> None:
    frame = minute_bars(day, "AAPL", seed, drop)
    with tempfile.TemporaryDirectory() as root:
        local_lake(root).put(day_key("minute_bars", day), encode("minute_bars", frame))
        got = bars(local_lake(root), "AAPL", interval[0], day, day).rows
    assert_same_rows(got, regrouped(frame, "AAPL", interval[1]))
    assert sum(int(r["volume"]) for r in got) == frame.volume.sum()
    opened, close = session_bounds(day)
    starts = pd.to_datetime([str(r["start"]) for r in got], utc=True)
    assert all(opened <= s < close for s in starts)
    assert all((s - opened) % pd.Timedelta(minutes=interval[1]) == pd.Timedelta(0) for s in starts)


def moto_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.mark.system
def test_the_aws_profile_reads_the_same_rows_from_s3(
    lake, local, moto_server: str, monkeypatch, capsys
) -> None:
    root, _ = lake
    commands = [
        ["bars", "AAPL", "--interval", "5m", "--from", "2026-11-20", "--to", "2026-11-27"],
        ["bars", "AAPL", "--interval", "1d", "--from", "2026-11-20", "--to", "2026-11-27"],
        ["bars", "MSFT"],
        ["analytics", "AAPL"],
    ]
    # The 5m range holds DAILY_ONLY: both profiles name it, on stderr.
    notes = [DAILY_ONLY_NOTE, "", "", ""]
    expected = [
        read_json(capsys, *command, note=note)
        for command, note in zip(commands, notes, strict=True)
    ]
    for name, value in moto_env(moto_server).items():
        monkeypatch.setenv(name, value)
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    s3.create_bucket(Bucket="lake")
    source = local_lake(root)
    for key in source.keys(""):
        s3.put_object(Bucket="lake", Key=key, Body=source.get(key))
    monkeypatch.setenv("MARKETDATA_PROFILE", "aws")
    monkeypatch.setenv("MARKETDATA_BUCKET", "lake")
    monkeypatch.setenv("MARKETDATA_TABLE", "latest")
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(root / "unused"))
    for command, rows, note in zip(commands, expected, notes, strict=True):
        assert rows
        assert_same_rows(read_json(capsys, *command, note=note), rows)
    monkeypatch.setenv("MARKETDATA_BUCKET", "no-lake")
    code, out, err = run(capsys, "bars", "AAPL")
    assert code == 1 and out == ""
    assert err.startswith("marketdata: error: S3 ListObjectsV2 s3://no-lake/minute_bars/ failed")


@pytest.mark.domain
@pytest.mark.parametrize("interval", ["1m", "5m", "15m", "1h"])
def test_intraday_bars_answer_minute_sessions_only_and_name_the_daily_only_ones(
    lake, local, capsys, interval: str
) -> None:
    # DAILY_ONLY holds AAPL's daily bar and no minute bars; SESSIONS hold minute bars.
    root, _ = lake
    span = ["--from", "2026-11-19", "--to", "2026-11-24"]
    code, out, err = run(capsys, "bars", "AAPL", "--interval", interval, *span, "--json")
    assert code == 0
    rows = json.loads(out)  # the CLI's --json stays a bare list
    assert {str(r["start"])[:10] for r in rows} == {"2026-11-23", "2026-11-24"}
    assert err == DAILY_ONLY_NOTE
    history = bars(local_lake(root), "AAPL", interval, date(2026, 11, 19), date(2026, 11, 24))
    assert history.daily_only == [DAILY_ONLY]
    daily = bars(local_lake(root), "AAPL", "1d", date(2026, 11, 19), date(2026, 11, 24))
    assert [str(r["start"])[:10] for r in daily.rows] == ["2026-11-20", "2026-11-23", "2026-11-24"]
    assert daily.daily_only == []
    # The API (its cached fast path) says the same: the rows, and the daily-only sessions.
    from marketdata_assets.web.reads import Reader

    reader = Reader(local_lake(root), None)  # type: ignore[arg-type]
    for _ in range(2):
        answer = json.loads(
            reader.bars_json("AAPL", interval, date(2026, 11, 19), date(2026, 11, 24))
        )
        assert answer["rows"] == rows and answer["daily_only"] == ["2026-11-20"]
    # Only the daily-only session: no minute bars, named; MSFT has no daily bar there.
    code, out, err = run(
        capsys, "bars", "AAPL", "--interval", interval, "--from", "2026-11-20", "--to", "2026-11-20"
    )
    assert code == 0 and out.startswith(
        "no minute bars for AAPL in 2026-11-20..2026-11-20: 1 session"
    )
    assert "2026-11-20" in err
    code, out, err = run(capsys, "bars", "MSFT", "--interval", interval, *span)
    assert code == 0 and err == "" and "2026-11-20" not in out


@pytest.mark.domain
def test_a_providers_daily_bar_kept_in_minute_bars_is_not_a_minute_bar(tmp_path: Path) -> None:
    store = local_lake(tmp_path)
    day = date(2026, 11, 23)
    minutes = minute_bars(day, "MSFT", 3)
    opened, _ = session_bounds(day)
    daily_bar = minutes.iloc[:1].assign(symbol="AAPL", interval="1d", start=pd.Timestamp(opened))
    frame = pd.concat([daily_bar, minutes], ignore_index=True).astype(BAR_SCHEMA)
    store.put(day_key("minute_bars", day), encode("minute_bars", frame))
    store.put(day_key("daily_bars", day), encode("daily_bars", daily_rows(frame, day)))
    aapl = bars(store, "AAPL", "1m", day, day)
    assert aapl.rows == [] and aapl.daily_only == [day]
    msft = bars(store, "MSFT", "5m", day, day)
    assert msft.rows and msft.daily_only == []
    assert all(r["symbol"] == "MSFT" for r in bars(store, None, "1m", day, day).rows)


@pytest.mark.graph
def test_the_api_names_the_daily_only_sessions_as_the_cli_does(lake, local, capsys) -> None:
    from fastapi.testclient import TestClient

    from marketdata_assets.settings import StorageSettings
    from marketdata_assets.web.app import create_app

    root, _ = lake
    span = {"from": "2026-11-19", "to": "2026-11-24"}
    with TestClient(create_app(StorageSettings(data_dir=root))) as client:
        for interval in ("1m", "1h"):
            cli = read_json(
                capsys, "bars", "AAPL", "--interval", interval, "--from", span["from"],
                "--to", span["to"], note=DAILY_ONLY_NOTE,
            )  # fmt: skip
            answer = client.get("/api/bars/AAPL", params={**span, "interval": interval})
            assert answer.status_code == 200
            body = answer.json()
            assert body["rows"] == cli and body["daily_only"] == ["2026-11-20"]
            assert "2026-11-20" in body["message"]
        daily = client.get("/api/bars/AAPL", params={**span, "interval": "1d"}).json()
        assert [row["start"][:10] for row in daily] == ["2026-11-20", "2026-11-23", "2026-11-24"]
        msft = client.get("/api/bars/MSFT", params={**span, "interval": "5m"}).json()
        assert isinstance(msft, list) and msft  # every MSFT session holds minutes: a bare list
