import itertools
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.market.ticks import parse_tick
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S
from marketdata_assets.providers.history_parse import parse_history
from marketdata_assets.providers.stub.history import StubHistory
from marketdata_assets.providers.stub.market import price_at
from marketdata_assets.providers.stub.quotes import StubProvider, day_volume
from marketdata_assets.settings import DEFAULT_SYMBOLS
from marketdata_assets.tick.curation import curate, parse_line, split_lines

pytestmark = pytest.mark.domain

NEW_YORK = ZoneInfo("America/New_York")


def test_same_seed_and_tick_give_the_same_bytes(tick) -> None:
    first = StubProvider(DEFAULT_SYMBOLS, seed=3, fault_rate=0.2).fetch(tick)
    again = StubProvider(DEFAULT_SYMBOLS, seed=3, fault_rate=0.2).fetch(tick)
    other_seed = StubProvider(DEFAULT_SYMBOLS, seed=4, fault_rate=0.2).fetch(tick)
    assert first == again
    assert first != other_seed


def test_clean_stub_gives_one_quote_per_symbol_inside_the_tick_minute(tick) -> None:
    payload = StubProvider(DEFAULT_SYMBOLS).fetch(tick)
    records = [json.loads(text) for text in split_lines(payload)]
    assert [r["symbol"] for r in records] == list(DEFAULT_SYMBOLS)
    for record in records:
        moment = parse_tick(record["event_ts"], "event_ts", window_s=FUTURE_WINDOW_S)
        assert moment == tick  # floored to the tick minute
        assert record["price"] > 0 and record["volume"] >= 0 and record["currency"] == "USD"


def test_the_stub_names_its_exchange_zone_and_new_york_trading_day() -> None:
    late_evening = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)  # 21:30 on the 25th in New York
    curated = curate(StubProvider(["AAPL", "KO"]).fetch(late_evening), late_evening)
    assert curated["exchange"].tolist() == ["STUB", "STUB"]
    assert curated["exchange_tz"].tolist() == ["America/New_York"] * 2
    assert curated["trading_day"].dt.strftime("%Y-%m-%d").tolist() == ["2026-11-25"] * 2
    assert curated["day_volume"].tolist() == [
        day_volume(symbol, late_evening, seed=7) for symbol in ("AAPL", "KO")
    ]


MINUTES_2026 = 365 * 24 * 60
ticks_2026 = st.integers(0, MINUTES_2026 - 1).map(
    lambda m: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m)
)


@settings(max_examples=200, deadline=None)
@given(ticks_2026, st.integers(1, 24 * 60), st.integers(0, 2**32 - 1), st.sampled_from(["A", "KO"]))
def test_day_volume_only_grows_within_a_new_york_day(
    tick: datetime, minutes: int, seed: int, symbol: str
) -> None:
    later = tick + timedelta(minutes=minutes)
    assume(tick.astimezone(NEW_YORK).date() == later.astimezone(NEW_YORK).date())
    assert day_volume(symbol, tick, seed) < day_volume(symbol, later, seed)


def test_day_volume_grows_every_minute_and_starts_again_at_new_york_midnight() -> None:
    midnight = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 00:00 in New York (EST)
    volumes = [day_volume("AAPL", midnight + timedelta(minutes=i), seed=7) for i in range(-3, 3)]
    before, after = volumes[:3], volumes[3:]
    assert before == sorted(before) and after == sorted(after)
    assert len(set(volumes)) == 6
    assert after[0] < before[-1]  # a new day starts from its first minute's volume
    assert 100 <= after[0] < 50_000


def test_day_volume_keeps_growing_through_the_repeated_hour_when_clocks_go_back() -> None:
    start = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT; 06:00Z is 01:00 EST again
    volumes = [day_volume("AAPL", start + timedelta(minutes=i), seed=7) for i in range(120)]
    assert all(a < b for a, b in itertools.pairwise(volumes))


def test_day_volume_depends_on_the_seed() -> None:
    tick = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert day_volume("AAPL", tick, seed=1) != day_volume("AAPL", tick, seed=2)


def test_a_symbols_price_does_not_depend_on_the_rest_of_the_list(tick) -> None:
    alone = json.loads(StubProvider(["KO"]).fetch(tick))
    among = [json.loads(t) for t in split_lines(StubProvider(DEFAULT_SYMBOLS).fetch(tick))]
    assert alone["price"] == next(r["price"] for r in among if r["symbol"] == "KO")


def test_prices_walk_in_small_steps_from_minute_to_minute(tick) -> None:
    prices = [price_at("AAPL", tick + timedelta(minutes=i), seed=7) for i in range(30)]
    moves = [abs(b / a - 1) for a, b in itertools.pairwise(prices)]
    assert max(moves) < 0.01
    assert len(set(prices)) > 20


def test_fault_rate_injects_every_kind_of_defect(tick) -> None:
    symbols = [f"S{i}" for i in range(400)]
    lines = split_lines(StubProvider(symbols, fault_rate=0.5).fetch(tick))
    records = [parse_line(text) for text in lines]
    parsed = [r for r in records if r is not None]
    assert len(lines) > len(symbols)  # duplicates add lines
    assert any(r is None for r in records)  # malformed lines
    assert any("price" not in r for r in parsed)
    assert any(isinstance(r.get("price"), float) and r["price"] < 0 for r in parsed)
    assert any(str(r["event_ts"]).startswith("2026-11-23") for r in parsed)  # stale


def test_fault_rate_zero_is_clean(tick) -> None:
    lines = split_lines(StubProvider([f"S{i}" for i in range(200)]).fetch(tick))
    assert len(lines) == 200
    assert all(parse_line(text) is not None for text in lines)


# --- one seeded market: the tick's price is the history's close --------------------------------

SESSIONS_2026 = sessions_in(date(2026, 1, 2), date(2026, 12, 31))


def _bars(seed: int, session: date, symbol: str) -> dict[datetime, tuple[float, float]]:
    """The stub history's (open, close) of each of `symbol`'s 1-minute bars, by start."""
    candidates = parse_history(StubHistory(seed=seed).fetch(session, [symbol]), session).candidates
    return {
        start.to_pydatetime(): (opened, closed)
        for start, opened, closed in zip(
            candidates["start"], candidates["open"], candidates["close"], strict=True
        )
    }


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(SESSIONS_2026),
    st.integers(0, 389),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["AAPL", "KO", "ZZZ"]),
)
def test_the_tick_price_at_a_minute_is_the_close_of_the_stub_history_bar_at_it(
    session: date, minute: int, seed: int, symbol: str
) -> None:
    bars = _bars(seed, session, symbol)
    tick = sorted(bars)[min(minute, len(bars) - 1)]
    quoted = StubProvider([symbol], seed=seed).records(tick)[0]["price"]
    assert quoted == bars[tick][1]


def test_between_sessions_the_quotes_run_from_the_last_close_to_the_next_open() -> None:
    wednesday, friday = date(2026, 11, 25), date(2026, 11, 27)  # Thanksgiving between them
    last_close = _bars(7, wednesday, "AAPL")
    next_open = _bars(7, friday, "AAPL")
    closed_at = max(last_close) + timedelta(minutes=1)
    opens_at = min(next_open)
    assert price_at("AAPL", closed_at, seed=7) == last_close[max(last_close)][1]
    span = int((opens_at - closed_at) / timedelta(minutes=1))  # the holiday's minutes too
    quotes = [price_at("AAPL", closed_at + timedelta(minutes=m), 7) for m in range(span)]
    moves = [abs(b / a - 1) for a, b in itertools.pairwise(quotes)]
    assert max(moves) < 0.002 and len(set(quotes)) > 100
    before_open = price_at("AAPL", opens_at - timedelta(minutes=1), seed=7)
    assert abs(before_open / next_open[opens_at][0] - 1) < 0.005
