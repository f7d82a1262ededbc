import itertools
import json
from datetime import timedelta

from marketdata_assets.curation import parse_line, split_lines
from marketdata_assets.providers.stub import StubProvider, walk_price
from marketdata_assets.settings import DEFAULT_SYMBOLS
from marketdata_assets.ticks import parse_tick


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
        moment = parse_tick(record["event_ts"], "event_ts")
        assert moment == tick  # floored to the tick minute
        assert record["price"] > 0 and record["volume"] >= 0 and record["currency"] == "USD"


def test_a_symbols_price_does_not_depend_on_the_rest_of_the_list(tick) -> None:
    alone = json.loads(StubProvider(["KO"]).fetch(tick))
    among = [json.loads(t) for t in split_lines(StubProvider(DEFAULT_SYMBOLS).fetch(tick))]
    assert alone["price"] == next(r["price"] for r in among if r["symbol"] == "KO")


def test_prices_walk_in_small_steps_from_minute_to_minute(tick) -> None:
    prices = [walk_price("AAPL", tick + timedelta(minutes=i), seed=7) for i in range(30)]
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
