"""Hostile input (issue 10): no value in a line, no answer from a provider and no pace of a
server costs the tick, the other symbols, the raw landing or the key's secrecy.

Property tests draw arbitrary JSON values — wrong types, huge and non-finite numbers, deep
nesting, lone surrogates — not only arbitrary text, and substitute them into bodies shaped like
the recorded real ones.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from marketdata_assets.curation import (
    CURATED_SCHEMA,
    curate,
    provider_errors,
    raw_records,
    schema_violations,
    split_lines,
)
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.providers import alphavantage, yahoo

PAYLOADS = Path(__file__).with_name("payloads")
CHART = json.loads((PAYLOADS / "yahoo_chart_AAPL.json").read_text())
QUOTE = json.loads((PAYLOADS / "alphavantage_global_quote_IBM.json").read_text())
TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
DEEP = "[" * 50_000 + "]" * 50_000  # json.loads: RecursionError, not ValueError

# Strings a parser or a standardiser might trip on, beside arbitrary text.
NASTY_TEXT = [
    "\ud800",
    "AAPL\udfff",
    "\udc00\ud800",
    "9999-12-31T23:59:59-01:00",  # past datetime.max once in UTC
    "0001-01-01T00:00:00+01:00",  # before datetime.min once in UTC
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00",
    "2026-11-25T14:31:05\ud800Z",
    "NaN",
    "-Infinity",
    "1e400",
    "9" * 5000,
    "",
    " ",
]
NASTY_NUMBERS = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1e20,
    -1e20,
    1e308,
    10**30,
    -(10**30),
    2**63,
    -(2**63) - 1,
    10**400,
]

texts = st.text(alphabet=st.characters(exclude_categories=()), max_size=20) | st.sampled_from(
    NASTY_TEXT
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(NASTY_NUMBERS)
    | texts
)
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def dumps(value: object) -> str:
    """JSON text of `value` as a provider could send it: NaN and Infinity allowed (Python's
    parser accepts them), lone surrogates as `\\udXXX` escapes."""
    return json.dumps(value, allow_nan=True)


def paths(doc: object, prefix: tuple = ()) -> Iterator[tuple]:
    """Every position in a JSON document, the root included."""
    yield prefix
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    for key, value in items:
        yield from paths(value, (*prefix, key))


def substituted(doc: object, changes: list[tuple[tuple, object]]) -> object:
    """`doc` with each change's value put at its path (paths a change removed are skipped)."""
    doc = copy.deepcopy(doc)
    for path, value in changes:
        if not path:
            doc = value
            continue
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass
    return doc


def shaped_like(doc: object) -> st.SearchStrategy[str]:
    """JSON text of `doc` with arbitrary values substituted at one to four of its positions."""
    changes = st.lists(
        st.tuples(st.sampled_from(list(paths(doc))), json_values), min_size=1, max_size=4
    )
    return changes.map(lambda c: dumps(substituted(doc, c)))


charts = shaped_like(CHART)
quotes = shaped_like(QUOTE)
bodies = json_values.map(dumps) | charts | quotes | texts
record_lines = st.fixed_dictionaries(
    {},
    optional={name: json_values for name in ("symbol", "price", "volume", "currency", "event_ts")},
).map(dumps)
envelope_lines = st.builds(
    lambda provider, at, body: dumps(
        {"fetch": {"provider": provider, "symbol": "X", "status": 200, "at": at}, "body": body}
    ),
    st.sampled_from(["yahoo", "alphavantage"]),
    st.just("2026-11-25T14:31:05.123Z") | json_values,
    bodies | json_values,
)
lines = (
    record_lines | envelope_lines | json_values.map(dumps) | texts.filter(lambda t: "\n" not in t)
)

PROPERTY = settings(max_examples=300, deadline=None)


def assert_one_storable_row_per_line(payload: bytes) -> pd.DataFrame:
    """The invariant: one curated row per line, in the curated schema, writable as Parquet."""
    frame = curate(payload, TICK)
    assert len(frame) == len(split_lines(payload))
    assert frame["line"].tolist() == list(range(1, len(frame) + 1))
    assert schema_violations(frame) == []
    stored = decode("curated", encode("curated", frame))
    assert isinstance(stored, pd.DataFrame) and len(stored) == len(frame)
    return frame


# -- 1. One record never costs a tick --------------------------------------------------------


@PROPERTY
@given(st.lists(lines, min_size=1, max_size=6))
@example([dumps({"symbol": "\ud800", "currency": "us\udfffd", "price": 1})])
@example([dumps({"event_ts": "9999-12-31T23:59:59-01:00"})])
@example([dumps({"event_ts": "0001-01-01T00:00:00+01:00"})])
@example([dumps({"fetch": {"provider": []}, "body": "x"})])  # an unhashable provider
@example([DEEP])
def test_every_line_of_arbitrary_json_becomes_one_storable_curated_row(batch: list[str]) -> None:
    assert_one_storable_row_per_line(
        "".join(f"{line}\n" for line in batch).encode("utf-8", "surrogatepass")
    )


@PROPERTY
@given(st.binary(max_size=200))
def test_every_line_of_arbitrary_bytes_becomes_one_storable_curated_row(payload: bytes) -> None:
    assert_one_storable_row_per_line(payload)


@PROPERTY
@given(st.sampled_from(["yahoo", "alphavantage"]), bodies | json_values)
@example("yahoo", dumps({"chart": {"result": [{"meta": {"symbol": "A"}, "indicators": []}]}}))
@example("yahoo", dumps({"chart": {"result": [{"meta": {}, "indicators": {"quote": [None]}}]}}))
@example("yahoo", dumps({"chart": {"result": [{"meta": {"regularMarketTime": 1e20}}]}}))
@example("yahoo", DEEP)
@example("alphavantage", DEEP)
def test_an_envelope_with_any_body_becomes_exactly_one_row(provider: str, body: object) -> None:
    fetch = {"provider": provider, "symbol": "X", "status": 200, "at": "2026-11-25T14:31:05Z"}
    payload = (dumps({"fetch": fetch, "body": body}) + "\n").encode()
    frame = assert_one_storable_row_per_line(payload)
    assert len(list(raw_records(payload))) == 1 and provider_errors(payload) == 0
    assert frame.loc[0, "parsed"] == (isinstance(body, str) and _parses(provider, body))


def _parses(provider: str, body: str) -> bool:
    fetch = {"at": "2026-11-25T14:31:05Z"}
    return (
        yahoo.parse(body) if provider == "yahoo" else alphavantage.parse(body, fetch)
    ) is not None


@PROPERTY
@given(charts | bodies)
@example(dumps({"chart": {"result": [{"meta": {"symbol": "A"}, "indicators": []}]}}))
@example(dumps({"chart": {"result": [{"meta": {"symbol": "A"}, "indicators": {"quote": [None]}}]}}))
@example(dumps({"chart": {"result": [{"meta": {"regularMarketTime": float("nan")}}]}}))
@example(dumps({"chart": {"result": [{"meta": {"regularMarketTime": float("inf")}}]}}))
@example(dumps({"chart": {"result": [{"meta": {"regularMarketTime": 1e20}}]}}))
@example(DEEP)
def test_the_yahoo_parser_is_total(body: str) -> None:
    record = yahoo.parse(body)
    assert record is None or set(record) >= {"symbol", "price", "volume", "currency", "event_ts"}


@PROPERTY
@given(quotes | bodies, st.just("2026-11-25T14:31:05.123Z") | json_values)
@example(DEEP, "2026-11-25T14:31:05Z")
def test_the_alphavantage_parser_is_total(body: str, at: object) -> None:
    record = alphavantage.parse(body, {"at": at})
    assert record is None or set(record) >= {"symbol", "price", "volume", "currency", "event_ts"}


@PROPERTY
@given(texts | json_values, texts | json_values)
@example("0001-01-01T00:00:00+01:00", "2026-11-25")
@example("9999-12-31T23:59:59-01:00", "9999-12-31")
@example("2026-11-25T14:31:05Z", "0001-01-01")
def test_observed_at_is_total(received: object, trading_day: object) -> None:
    moment = alphavantage.observed_at(received, trading_day)
    assert moment is None or datetime.fromisoformat(moment).utcoffset() is not None


def test_a_yahoo_body_of_odd_shape_still_gives_what_its_meta_holds() -> None:
    chart = copy.deepcopy(CHART)
    chart["chart"]["result"][0]["indicators"] = []
    chart["chart"]["result"][0]["meta"]["regularMarketTime"] = float("nan")
    record = yahoo.parse(dumps(chart))
    assert record is not None
    assert (record["symbol"], record["price"], record["event_ts"]) == ("AAPL", 229.87, None)


def test_a_lone_surrogate_or_an_overflowing_moment_becomes_null_and_the_rest_stays() -> None:
    line = dumps({"symbol": "A\ud800", "price": 5, "volume": 1, "currency": "USD",
                  "event_ts": "9999-12-31T23:59:59-01:00"})  # fmt: skip
    row = assert_one_storable_row_per_line((line + "\n").encode()).iloc[0]
    assert pd.isna(row["symbol"]) and pd.isna(row["event_ts"])
    assert (row["parsed"], row["price"], row["volume"], row["currency"]) == (True, 5.0, 1, "USD")
    assert list(row.index) == list(CURATED_SCHEMA)
