"""History sources and their parser: recorded and documented bodies parse to their exact numbers
and instants, the stub's sessions are deterministic and plausible, files become candidates row
by row, the parser is total, and the HTTP sources meet a loopback provider (unknown symbols,
Alpha Vantage's month cache and request budget)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.errors import ConfigError
from marketdata_assets.market.calendar import session_bounds, session_minutes, sessions_in
from marketdata_assets.operations.request_budget import FileRequestBudget
from marketdata_assets.providers.alphavantage import history as alphavantage_history
from marketdata_assets.providers.alphavantage.history import AlphaVantageHistory
from marketdata_assets.providers.fetching import FetchPolicy
from marketdata_assets.providers.file.history import FileHistory
from marketdata_assets.providers.history import (
    HistoryError,
    envelope,
    envelope_symbol,
    payload,
)
from marketdata_assets.providers.history_parse import CANDIDATE_SCHEMA, parse_history, row_text
from marketdata_assets.providers.registry import build_history_source, history_sources
from marketdata_assets.providers.yahoo.history import YahooHistory
from marketdata_assets.settings import Settings
from marketdata_tests.provider_server import ProviderServer, serving

PAYLOADS = Path(__file__).with_name("payloads")
HISTORY = PAYLOADS / "history"
CHART = (PAYLOADS / "yahoo_chart_AAPL.json").read_text()
NOT_FOUND = (PAYLOADS / "yahoo_not_found.json").read_text()
AV_MONTH = (HISTORY / "alphavantage_intraday_IBM_2026-03.json").read_text()
AV_DAILY = (HISTORY / "alphavantage_daily_IBM.json").read_text()
AV_PREMIUM = (HISTORY / "alphavantage_premium.json").read_text()
AV_ERROR = (PAYLOADS / "alphavantage_error_message.json").read_text()
AV_ACTIONS = {
    function: (HISTORY / f"alphavantage_{function.lower()}_IBM.json").read_text()
    for function in ("SPLITS", "DIVIDENDS")
}
CSV = HISTORY / "bars.csv"
KEY = "K3YS3CR3T0000042"
FAST = FetchPolicy(request_timeout_s=2.0, deadline_s=20, max_attempts=2, backoff_base_s=0.01)
WEDNESDAY, BLACK_FRIDAY = date(2026, 11, 25), date(2026, 11, 27)
FRIDAY_EST, MONDAY_EDT = date(2026, 3, 6), date(2026, 3, 9)  # DST began on Sunday 2026-03-08


def schema(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC").as_unit("us")


# --- Yahoo chart bodies ------------------------------------------------------------------------


@pytest.mark.domain
def test_recorded_yahoo_minute_bars_parse_to_the_bodys_numbers_and_instants() -> None:
    chart = json.loads(CHART)["chart"]["result"][0]
    quote = chart["indicators"]["quote"][0]
    raw = payload([envelope("yahoo", "AAPL", WEDNESDAY, CHART, request="u?interval=1m")])
    parsed = parse_history(raw, WEDNESDAY)
    bars = parsed.candidates
    assert schema(bars) == CANDIDATE_SCHEMA
    assert bars["start"].tolist() == [
        pd.Timestamp(datetime.fromtimestamp(t, UTC)) for t in chart["timestamp"]
    ]
    for name in ("open", "high", "low", "close"):
        assert bars[name].tolist() == quote[name]
    assert bars["volume"].tolist()[0] == quote["volume"][0]
    assert quote["volume"][1] is None and np.isnan(bars["volume"].iloc[1])  # judged by the gate
    assert set(bars["interval"]) == {"1m"} and set(bars["source"]) == {"yahoo"}
    assert bars["problem"].isna().all() and not parsed.errors and not parsed.notes
    assert bars["row"].tolist() == [0, 1] and bars["item"].tolist() == [0, 1]
    second = {
        name: values[1] for name, values in [("timestamp", chart["timestamp"]), *quote.items()]
    }
    assert json.loads(row_text(raw, 0, 1)) == second


@pytest.mark.domain
def test_a_yahoo_minute_with_every_field_null_is_no_bar_but_a_partial_one_is_a_candidate() -> None:
    body = json.loads(CHART)
    result = body["chart"]["result"][0]
    result["timestamp"] += [1764081120, 1764081180]
    quote = result["indicators"]["quote"][0]
    for name in ("open", "high", "low", "close", "volume"):
        quote[name] += [None, None if name == "close" else 230.0]
    raw = payload([envelope("yahoo", "AAPL", WEDNESDAY, json.dumps(body))])
    bars = parse_history(raw, WEDNESDAY).candidates
    assert bars["item"].tolist() == [0, 1, 3]  # minute 2 had no trades
    assert np.isnan(bars["close"].iloc[2]) and bars["open"].iloc[2] == 230.0


@pytest.mark.domain
def test_an_old_yahoo_session_is_a_daily_bar_with_a_note() -> None:
    body = CHART.replace('"dataGranularity": "1m"', '"dataGranularity": "1d"')
    raw = payload([envelope("yahoo", "AAPL", WEDNESDAY, body)])
    parsed = parse_history(raw, WEDNESDAY)
    assert set(parsed.candidates["interval"]) == {"1d"}
    assert parsed.notes == [
        "AAPL 2026-11-25: daily bars only (Yahoo keeps 1-minute bars for 30 days)"
    ]


# --- Alpha Vantage series bodies ---------------------------------------------------------------


@pytest.mark.domain
def test_alphavantage_month_gives_each_session_its_bars_in_utc_across_the_dst_change() -> None:
    series = json.loads(AV_MONTH)["Time Series (1min)"]
    for session, open_utc in [(FRIDAY_EST, "2026-03-06T14:30Z"), (MONDAY_EDT, "2026-03-09T13:30Z")]:
        raw = payload([envelope("alphavantage", "IBM", session, AV_MONTH, status=200)])
        bars = parse_history(raw, session).candidates.sort_values("start")
        assert schema(bars) == CANDIDATE_SCHEMA
        keys = sorted(key for key in series if key.startswith(session.isoformat()))
        assert bars["start"].iloc[0] == utc(open_utc)  # 09:30 New York, EST then EDT
        assert bars["start"].iloc[-1] - bars["start"].iloc[0] == pd.Timedelta(minutes=389)
        for name, field in [
            ("open", "1. open"),
            ("high", "2. high"),
            ("low", "3. low"),
            ("close", "4. close"),
            ("volume", "5. volume"),
        ]:
            assert bars[name].tolist() == [float(series[key][field]) for key in keys]
        first = int(bars["item"].iloc[0])
        assert json.loads(row_text(raw, 0, first)) == {keys[0]: series[keys[0]]}


@pytest.mark.domain
def test_every_row_of_a_month_body_is_a_candidate_of_exactly_one_session() -> None:
    month = json.loads(AV_MONTH)
    series = month["Time Series (1min)"]
    series["2026-03-07 10:00:00"] = series["2026-03-06 09:30:00"]  # a Saturday
    series["03/09/2026 09:32"] = series["2026-03-09 09:31:00"]  # no date AV writes
    body = json.dumps(month)
    counts = {}
    for session in sessions_in(date(2026, 3, 1), date(2026, 3, 31)):
        raw = payload([envelope("alphavantage", "IBM", session, body)])
        counts[session] = parse_history(raw, session).candidates
    assert sum(len(bars) for bars in counts.values()) == len(series)
    first = counts[date(2026, 3, 2)]  # the month's first session takes the homeless rows
    assert sorted(first["problem"].fillna("")) == ["", "unparseable_ts"]
    assert utc("2026-03-07T15:00Z") in first["start"].tolist()


@pytest.mark.domain
def test_alphavantage_daily_body_gives_the_sessions_daily_bar_from_its_open() -> None:
    raw = payload([envelope("alphavantage", "IBM", MONDAY_EDT, AV_DAILY)])
    parsed = parse_history(raw, MONDAY_EDT)
    bars = parsed.candidates
    assert bars[["interval", "open", "close", "volume"]].values.tolist() == [
        ["1d", 249.5, 251.27, 4821077.0]
    ]
    assert bars["start"].iloc[0] == session_bounds(MONDAY_EDT)[0]
    assert "daily bar only" in parsed.notes[0]


@pytest.mark.domain
@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (AV_ERROR, "InvalidRequest"),
        (AV_PREMIUM, "Premium"),
        ((PAYLOADS / "alphavantage_daily_limit.json").read_text(), "DailyLimit"),
        ((PAYLOADS / "alphavantage_note.json").read_text(), "RateLimited"),
    ],
)
def test_an_alphavantage_refusal_in_a_body_is_an_error_not_a_row(body: str, kind: str) -> None:
    parsed = parse_history(payload([envelope("alphavantage", "IBM", MONDAY_EDT, body)]), MONDAY_EDT)
    assert parsed.candidates.empty
    assert parsed.errors["IBM"].startswith(f"{kind}: ") and "\n" not in parsed.errors["IBM"]


# --- the stub ----------------------------------------------------------------------------------


def stub_bars(session: date, symbols: list[str], seed: int = 7) -> pd.DataFrame:
    source = build_history_source(Settings(seed=seed), "stub")
    return parse_history(source.fetch(session, symbols), session).candidates


@pytest.mark.domain
def test_the_stub_is_deterministic_per_seed_and_symbol() -> None:
    stub = build_history_source(Settings(seed=7), "stub")
    both = stub.fetch(WEDNESDAY, ["MSFT", "AAPL"])
    assert both == build_history_source(Settings(seed=7), "stub").fetch(WEDNESDAY, ["AAPL", "MSFT"])
    assert both != build_history_source(Settings(seed=8), "stub").fetch(WEDNESDAY, ["AAPL", "MSFT"])
    alone = stub.fetch(WEDNESDAY, ["AAPL"])
    assert both.splitlines()[0] == alone.splitlines()[0]  # AAPL's bars ignore the other symbols
    assert [envelope_symbol(line) for line in both.splitlines()] == ["AAPL", "MSFT"]
    assert stub.fetch(date(2026, 11, 24), ["AAPL"]) != alone


@pytest.mark.domain
@pytest.mark.parametrize("session", [WEDNESDAY, BLACK_FRIDAY])
def test_the_stub_has_a_bar_for_every_session_minute(session: date) -> None:
    bars = stub_bars(session, ["AAPL", "ZZZ"])
    minutes = session_minutes(session).as_unit("us")
    for _, own in bars.groupby("symbol"):
        assert pd.DatetimeIndex(own["start"]).equals(minutes)
    assert len(minutes) == (210 if session == BLACK_FRIDAY else 390)


@pytest.mark.domain
@settings(max_examples=25, deadline=None)
@given(
    session=st.sampled_from(sessions_in(date(2010, 1, 4), date(2026, 12, 31))),
    symbols=st.lists(st.from_regex(r"[A-Z]{1,5}", fullmatch=True), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),  # the seeds Settings accepts (MARKETDATA_SEED)
)
def test_stub_bars_are_consistent_cents_and_whole_shares(
    session: date, symbols: list[str], seed: int
) -> None:
    bars = stub_bars(session, symbols, seed)
    assert schema(bars) == CANDIDATE_SCHEMA and bars["problem"].isna().all()
    o, h, lo, c, v = (bars[name].to_numpy() for name in ("open", "high", "low", "close", "volume"))
    assert (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all() and (lo > 0).all()
    for prices in (o, h, lo, c):
        assert np.array_equal(np.round(prices, 2), prices)
    assert (v >= 1).all() and np.array_equal(v, np.floor(v))


@pytest.mark.domain
def test_stub_volume_is_high_at_the_open_and_the_close() -> None:
    symbols = [f"S{i}" for i in range(20)]
    bars = stub_bars(WEDNESDAY, symbols)
    minute = bars.groupby("symbol").cumcount()
    edges = bars.loc[(minute < 30) | (minute >= 360), "volume"].mean()
    midday = bars.loc[(minute >= 165) & (minute < 225), "volume"].mean()
    assert edges > 2 * midday


@pytest.mark.domain
def test_stub_sessions_continue_from_the_previous_close_with_a_small_gap() -> None:
    sessions = sessions_in(date(2026, 11, 2), date(2026, 11, 30))
    symbols = ["AAPL", "KO", "QQQ"]
    days = [stub_bars(session, symbols) for session in sessions]
    for before, after in pairwise(days):
        close = before.groupby("symbol")["close"].last()
        opened = after.groupby("symbol")["open"].first()
        assert (np.abs(np.log(opened / close)) < 0.03).all()
    closes = np.array([day.groupby("symbol")["close"].last().to_numpy() for day in days])
    assert np.std(np.diff(np.log(closes), axis=0)) > 0.003  # it moves from day to day


@pytest.mark.domain
def test_sources_refuse_a_day_that_is_no_session() -> None:
    with pytest.raises(HistoryError, match="2026-11-26: not an NYSE session"):
        build_history_source(Settings(), "stub").fetch(date(2026, 11, 26), ["AAPL"])


# --- files -------------------------------------------------------------------------------------


def file_candidates(source: FileHistory, session: date) -> pd.DataFrame:
    return parse_history(source.fetch(session, source.symbols() or []), session).candidates


@pytest.mark.domain
def test_a_csv_and_the_same_rows_in_parquet_give_the_same_candidates(tmp_path: Path) -> None:
    frame = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    shaped = frame["ts"].str.contains(r"[+-]\d\d:\d\d$|Z$")
    frame["ts"] = pd.to_datetime(frame["ts"].where(shaped), format="ISO8601", utc=True)
    for name in ("open", "high", "low", "close", "volume"):
        frame[name] = pd.to_numeric(frame[name])
    frame.to_parquet(tmp_path / "bars.parquet")
    first = date(2026, 11, 24)
    csv_source = FileHistory(str(CSV), first_session=first)
    parquet_source = FileHistory(str(tmp_path / "bars.parquet"), first_session=first)
    assert csv_source.symbols() == parquet_source.symbols() == ["AAPL", "MSFT"]
    for session in (first, WEDNESDAY):
        from_csv, from_parquet = (file_candidates(s, session) for s in (csv_source, parquet_source))
        pd.testing.assert_frame_equal(from_csv, from_parquet)
        assert len(from_csv) and (from_csv["source"] == "file").all()


@pytest.mark.domain
def test_file_rows_are_candidates_each_with_its_exact_line() -> None:
    source = FileHistory(str(CSV))  # the first session defaults to the file's earliest: 11-24
    lines = [line for line in CSV.read_text().splitlines()[1:] if line]
    found = {}
    for session in (date(2026, 11, 24), WEDNESDAY):
        raw = source.fetch(session, ["AAPL", "MSFT"])
        for row in parse_history(raw, session).candidates.to_dict("records"):
            found[row_text(raw, row["line"], row["item"])] = (session, row)
    assert sorted(found) == sorted(lines)  # every row once, as written
    # a ts that names no instant, or a day that is no session: the first session's, never lost
    unreadable, sunday, naive = (found[line] for line in lines[5:8])
    assert unreadable[0] == sunday[0] == naive[0] == date(2026, 11, 24)
    assert unreadable[1]["problem"] == naive[1]["problem"] == "unparseable_ts"
    assert pd.isna(sunday[1]["problem"])
    assert found[lines[6]][1]["start"] == utc("2026-11-22T15:00Z")  # a Sunday: the gate judges
    session, row = found[lines[3]]  # a missing price is no error
    assert session == WEDNESDAY and np.isnan(row["high"]) and pd.isna(row["problem"])


@pytest.mark.domain
def test_fetch_restricts_a_file_to_the_symbols_asked_for() -> None:
    source = FileHistory(str(CSV))
    raw = source.fetch(WEDNESDAY, ["MSFT", "IBM"])
    parsed = parse_history(raw, WEDNESDAY)
    assert set(parsed.candidates["symbol"]) == {"MSFT"}
    assert parsed.notes == ["IBM 2026-11-25: no rows in bars.csv on this day"]


@pytest.mark.domain
@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (
            b"symbol,ts,open,high,low,close\nAAPL,2026-11-25T14:30Z,1,1,1,1\n",
            "lacks the columns volume",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV or Parquet file"),
        (b"PAR1 this is no parquet PAR1", "not a readable Parquet file"),
        (b"", "empty"),
    ],
)
def test_a_file_that_is_no_bars_table_is_one_line_naming_it(
    tmp_path: Path, content: bytes, rule: str
) -> None:
    path = tmp_path / "input.dat"
    path.write_bytes(content)
    with pytest.raises(HistoryError) as raised:
        build_history_source(Settings(), "file", source=str(path))
    assert rule in str(raised.value) and str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.domain
def test_a_missing_file_is_a_history_error(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="cannot read the file"):
        build_history_source(Settings(), "file", source=str(tmp_path / "absent.csv"))


# --- the parser is total -----------------------------------------------------------------------


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
# Bodies shaped like each source's, with values of any kind where its numbers and times go.
CHART_BODIES = st.builds(
    lambda times, fields: {
        "chart": {"result": [{"timestamp": times, "indicators": {"quote": [fields]}}]}
    },
    st.lists(JSON_VALUES, max_size=4) | JSON_VALUES,
    st.dictionaries(
        st.sampled_from(["open", "high", "low", "close", "volume"]),
        st.lists(JSON_VALUES, max_size=4) | JSON_VALUES,
    ),
)
SERIES_BODIES = st.builds(
    lambda name, rows: {name: rows},
    st.sampled_from(["Time Series (1min)", "Time Series (Daily)"]),
    st.dictionaries(
        st.sampled_from(["2026-11-25 09:30:00", "2026-11-25", "2026-11-28 10:00:00"])
        | st.text(max_size=20),
        st.dictionaries(
            st.sampled_from(["1. open", "2. high", "4. close", "5. volume"]), JSON_VALUES
        )
        | JSON_VALUES,
        max_size=4,
    ),
)
CSV_BODIES = st.lists(
    st.lists(
        st.text(max_size=12) | st.sampled_from(["2026-11-25T09:30:00-05:00", "1.5", ""]), max_size=8
    ).map(",".join),
    max_size=4,
).map(lambda rows: "\n".join(["symbol,ts,open,high,low,close,volume", *rows]))
ENVELOPE_LINES = st.builds(
    lambda source, symbol, body, error: envelope(source, symbol, WEDNESDAY, body, error=error),
    st.sampled_from([*history_sources(), "other"]),
    st.text(max_size=5),
    st.one_of(
        st.none(),
        st.text(max_size=40),
        st.sampled_from(
            [
                CHART,
                AV_MONTH,
                AV_DAILY,
                AV_PREMIUM,
                CSV.read_text(),
                NOT_FOUND,
                '{"chart": {"result": []}}',
            ]
        ),
        (JSON_VALUES | CHART_BODIES | SERIES_BODIES).map(json.dumps),
        CSV_BODIES,
    ),
    st.none() | st.text(max_size=10),
)


@pytest.mark.domain
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.binary(max_size=60) | ENVELOPE_LINES.map(str.encode), max_size=6))
def test_parse_history_never_raises_and_every_row_has_a_text(lines: list[bytes]) -> None:
    raw = b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n"
    parsed = parse_history(raw, WEDNESDAY)
    bars = parsed.candidates
    assert schema(bars) == CANDIDATE_SCHEMA
    assert bars["row"].tolist() == list(range(len(bars)))
    for line, item in zip(bars["line"], bars["item"], strict=True):
        assert isinstance(row_text(raw, int(line), int(item)), str)


@pytest.mark.domain
@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=5))
def test_a_line_that_is_no_envelope_is_one_unparseable_row(lines: list[bytes]) -> None:
    lines = [line.replace(b"\n", b" ") for line in lines]
    lines = [
        b"[" + line if envelope_symbol(line) is not None or not line.strip() else line
        for line in lines
    ]
    raw = b"\n".join(lines) + b"\n"
    bars = parse_history(raw, WEDNESDAY).candidates
    assert bars["line"].tolist() == list(range(len(lines)))
    assert (bars["problem"] == "unparseable").all() and bars["symbol"].isna().all()
    texts = [
        row_text(raw, line, item) for line, item in zip(bars["line"], bars["item"], strict=True)
    ]
    assert texts == [line.decode("utf-8", "replace") for line in lines]


@pytest.mark.domain
def test_envelope_symbol_names_a_lines_symbol_or_none() -> None:
    line = envelope("stub", "AAPL", WEDNESDAY, "{}").encode()
    assert envelope_symbol(line) == "AAPL"
    assert envelope_symbol(b"not json") is None and envelope_symbol(b'{"symbol": 3}') is None


@pytest.mark.domain
def test_building_a_history_source_names_the_allowed_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert set(history_sources()) == {"stub", "yahoo", "alphavantage", "file"}
    with pytest.raises(ConfigError, match="choose one of stub, alphavantage, yahoo, file"):
        build_history_source(Settings(), "bloomberg")
    with pytest.raises(ConfigError, match="--source"):
        build_history_source(Settings(), "file")
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"^ALPHAVANTAGE_API_KEY: the alphavantage provider"):
        build_history_source(Settings(), "alphavantage")


# --- HTTP sources over a loopback provider -----------------------------------------------------


@pytest.fixture
def yahoo() -> Iterator[ProviderServer]:
    server = ProviderServer(
        lambda path, _: path.rsplit("/", 1)[-1],
        lambda symbol: CHART.replace('"AAPL"', f'"{symbol}"'),
    )
    server.answers["NOPE"] = [(404, NOT_FOUND, 0.0, False)]
    with serving(server):
        yield server


@pytest.mark.system
def test_yahoo_unknown_symbol_is_an_error_and_the_others_still_parse(
    yahoo: ProviderServer,
) -> None:
    source = YahooHistory(FAST, yahoo.url, today=lambda: date(2026, 12, 1))
    raw = source.fetch(WEDNESDAY, ["NOPE", "AAPL", "MSFT"])
    parsed = parse_history(raw, WEDNESDAY)
    assert parsed.errors["NOPE"].startswith("UnknownSymbol:")
    assert sorted(set(parsed.candidates["symbol"])) == ["AAPL", "MSFT"]
    opens, closes = session_bounds(WEDNESDAY)
    charts = [query for query in yahoo.queries if query["events"] == "div,splits"]
    assert len(charts) == 3 and {query["interval"] for query in charts} == {"1m"}
    assert {int(q["period1"]) for q in charts} == {opens.timestamp()}
    assert {int(q["period2"]) for q in charts} == {closes.timestamp()}
    bases = [query for query in yahoo.queries if query["events"] == "splits"]  # yahoo.basis
    assert len(bases) == 3 and {int(q["period1"]) for q in bases} == {opens.timestamp()}
    assert source.fetch(WEDNESDAY, ["AAPL", "MSFT", "NOPE"]) == raw  # no wall-clock time inside


@pytest.mark.system
def test_yahoo_asks_an_old_session_for_its_daily_bar(yahoo: ProviderServer) -> None:
    source = YahooHistory(FAST, yahoo.url, today=lambda: date(2027, 1, 29))
    parsed = parse_history(source.fetch(WEDNESDAY, ["AAPL"]), WEDNESDAY)
    assert [q["interval"] for q in yahoo.queries if q["events"] == "div,splits"] == ["1d"]
    assert set(parsed.candidates["interval"]) == {"1d"} and "daily bars only" in parsed.notes[0]


@pytest.fixture
def alphavantage() -> Iterator[ProviderServer]:
    def answer(key: str) -> str:
        symbol, function = key.split(":")
        body = AV_DAILY if function == "TIME_SERIES_DAILY" else AV_MONTH
        return AV_ACTIONS.get(function, body).replace('"IBM"', f'"{symbol}"')

    server = ProviderServer(lambda _, query: f"{query['symbol']}:{query['function']}", answer)
    server.answers["NOPE:TIME_SERIES_INTRADAY"] = [(200, AV_ERROR, 0.0, False)]
    with serving(server):
        yield server


@pytest.fixture(autouse=True)
def own_backfills(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own backfills' shared actions answers (a port may serve two tests)."""
    monkeypatch.setattr(alphavantage_history, "_BACKFILLS", OrderedDict())


@pytest.fixture
def budget(tmp_path: Path) -> FileRequestBudget:
    return FileRequestBudget(tmp_path / "budget.json", "alphavantage", 25)


def av(
    server: ProviderServer, budget: FileRequestBudget, first: date | None = None
) -> AlphaVantageHistory:
    return AlphaVantageHistory(
        KEY, budget, FAST, server.url, today=lambda: date(2026, 11, 30), first_session=first
    )


@pytest.mark.system
def test_alphavantage_asks_once_per_symbol_month_and_charges_the_budget(
    alphavantage: ProviderServer, budget: FileRequestBudget
) -> None:
    source = av(alphavantage, budget)
    march = [date(2026, 3, 2), FRIDAY_EST, MONDAY_EDT]
    # a month of intraday bars each, and SPLITS and DIVIDENDS once per symbol
    assert source.requests_needed(march, ["IBM", "NOPE"]) == 2 + 4
    parsed = {}
    for session in march:
        raw = source.fetch(session, ["IBM", "NOPE"])
        assert KEY.encode() not in raw
        parsed[session] = parse_history(raw, session)
    assert sorted(alphavantage.requests) == [
        "IBM:DIVIDENDS",
        "IBM:SPLITS",
        "IBM:TIME_SERIES_INTRADAY",
        "NOPE:DIVIDENDS",
        "NOPE:SPLITS",
        "NOPE:TIME_SERIES_INTRADAY",
    ]
    assert budget.used(date(2026, 11, 30)) == 6
    assert source.requests_needed(march, ["IBM", "NOPE"]) == 0
    assert parsed[MONDAY_EDT].errors["NOPE"].startswith("InvalidRequest:")
    assert len(parsed[MONDAY_EDT].candidates) == len(parsed[FRIDAY_EST].candidates) == 3
    query = alphavantage.queries[0]
    assert query["month"] == "2026-03" and query["interval"] == "1min"
    assert query["outputsize"] == "full" and query["apikey"] == KEY
    source.fetch(date(2026, 4, 1), ["IBM"])  # a new month is a new request
    assert budget.used(date(2026, 11, 30)) == 7


@pytest.mark.system
def test_alphavantage_sessions_are_the_same_bytes_from_a_kept_month_or_a_new_request(
    alphavantage: ProviderServer, budget: FileRequestBudget
) -> None:
    warm = av(alphavantage, budget, date(2026, 3, 2))
    warm.fetch(date(2026, 3, 2), ["IBM"])
    kept = warm.fetch(MONDAY_EDT, ["IBM"])
    assert kept == av(alphavantage, budget, date(2026, 3, 2)).fetch(MONDAY_EDT, ["IBM"])
    assert json.loads(kept)["session"] == "2026-03-09"


@pytest.mark.system
def test_alphavantage_premium_intraday_falls_back_to_the_daily_bar(
    alphavantage: ProviderServer, budget: FileRequestBudget
) -> None:
    alphavantage.answers["IBM:TIME_SERIES_INTRADAY"] = [(200, AV_PREMIUM, 0.0, False)]
    source = av(alphavantage, budget)
    raw = source.fetch(MONDAY_EDT, ["IBM"])
    parsed = parse_history(raw, MONDAY_EDT)
    assert alphavantage.requests == [
        "IBM:TIME_SERIES_INTRADAY",
        "IBM:TIME_SERIES_DAILY",
        "IBM:DIVIDENDS",
        "IBM:SPLITS",
    ]
    assert budget.used(date(2026, 11, 30)) == 4 and not parsed.errors
    assert parsed.candidates["interval"].tolist() == ["1d"]
    assert json.loads(raw)["request"].endswith("outputsize=compact&symbol=IBM")
    source.fetch(FRIDAY_EST, ["IBM"])  # the month's answer is kept: no more requests
    assert len(alphavantage.requests) == 4


@pytest.mark.system
def test_alphavantage_refuses_a_session_its_budget_cannot_pay_for(
    alphavantage: ProviderServer, tmp_path: Path
) -> None:
    small = FileRequestBudget(tmp_path / "budget.json", "alphavantage", 1)
    with pytest.raises(HistoryError) as raised:
        av(alphavantage, small).fetch(MONDAY_EDT, ["IBM", "MSFT"])
    assert "needs 2 requests but 1 of 1 are left" in str(raised.value)
    assert "\n" not in str(raised.value) and alphavantage.requests == []
