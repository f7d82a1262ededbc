"""Hostile input (issue 10): no value in a line, no answer from a provider and no pace of a
server costs the tick, the other symbols, the raw landing or the key's secrecy.

Property tests draw arbitrary JSON values — wrong types, huge and non-finite numbers, deep
nesting, lone surrogates — not only arbitrary text, and substitute them into bodies shaped like
the recorded real ones.
"""

from __future__ import annotations

import copy
import dataclasses
import html
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import httpx
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.market.records import Quote
from marketdata_assets.providers import flat
from marketdata_assets.providers.alphavantage import quotes as alphavantage
from marketdata_assets.providers.deadlines import transport
from marketdata_assets.providers.fetching import (
    Answer,
    FetchError,
    FetchPolicy,
    check_status,
    fetch_all,
)
from marketdata_assets.providers.redaction import REDACTED, redactor
from marketdata_assets.providers.yahoo import quotes as yahoo
from marketdata_assets.providers.yahoo.quotes import YahooProvider
from marketdata_assets.tick.contracts import dtype_violations
from marketdata_assets.tick.curation import (
    CURATED_SCHEMA,
    curate,
    provider_errors,
    raw_records,
    split_lines,
)
from marketdata_tests.provider_server import ProviderServer, envelopes, serving

PAYLOADS = Path(__file__).with_name("payloads")
CHART = json.loads((PAYLOADS / "yahoo_chart_AAPL.json").read_text())
QUOTE = json.loads((PAYLOADS / "alphavantage_global_quote_IBM.json").read_text())
TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
QUOTE_FIELDS = {field.name for field in dataclasses.fields(Quote)}
LAST_SECOND_AT_UTC_PLUS_14 = {
    "regularMarketTime": 253402300799,  # 9999-12-31T23:59:59Z: in year 10000 at Kiritimati
    "exchangeTimezoneName": "Pacific/Kiritimati",
}
FLAT_FIELDS = tuple(flat.QUOTE_FIELDS.values())  # what a flat record's fields are called
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
    "America",  # a folder of the tz database, not a zone
    "../../etc/passwd",
    "America/New_York\x00",
    "Pacific/Kiritimati",  # UTC+14: the last epoch second is in year 10000 there
    "2026-02-30",
    "9999-12-31",
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
    253402300799,  # 9999-12-31T23:59:59Z
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
    optional={name: json_values for name in FLAT_FIELDS},
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
    """The invariant: one curated row per line (but for a fetch's error entries, which are
    counted as provider errors instead), in the curated schema, writable as Parquet."""
    frame = curate(payload, TICK)
    records = [number for number, _ in raw_records(payload)]
    assert len(records) + provider_errors(payload) == len(split_lines(payload))
    assert frame["line"].tolist() == records
    assert dtype_violations(frame, CURATED_SCHEMA) == []
    stored = decode("curated", encode("curated", frame))
    assert isinstance(stored, pd.DataFrame) and len(stored) == len(frame)
    return frame


# -- 1. One record never costs a tick --------------------------------------------------------


@pytest.mark.domain
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


@pytest.mark.domain
@PROPERTY
@given(st.binary(max_size=200))
def test_every_line_of_arbitrary_bytes_becomes_one_storable_curated_row(payload: bytes) -> None:
    assert_one_storable_row_per_line(payload)


@pytest.mark.domain
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


@pytest.mark.domain
@PROPERTY
@given(charts | bodies)
@example(dumps({"chart": {"result": [{"meta": {"symbol": "A"}, "indicators": []}]}}))
@example(dumps({"chart": {"result": [{"meta": {"symbol": "A"}, "indicators": {"quote": [None]}}]}}))
@example(dumps({"chart": {"result": [{"meta": {"regularMarketTime": float("nan")}}]}}))
@example(dumps({"chart": {"result": [{"meta": {"regularMarketTime": float("inf")}}]}}))
@example(dumps({"chart": {"result": [{"meta": {"regularMarketTime": 1e20}}]}}))
@example(DEEP)
@example(dumps({"chart": {"result": [{"meta": LAST_SECOND_AT_UTC_PLUS_14}]}}))
def test_the_yahoo_parser_is_total(body: str) -> None:
    record = yahoo.parse(body)
    assert record is None or set(record) == QUOTE_FIELDS


@pytest.mark.domain
@PROPERTY
@given(quotes | bodies, st.just("2026-11-25T14:31:05.123Z") | json_values)
@example(DEEP, "2026-11-25T14:31:05Z")
def test_the_alphavantage_parser_is_total(body: str, at: object) -> None:
    record = alphavantage.parse(body, {"at": at})
    assert record is None or set(record) == QUOTE_FIELDS


@pytest.mark.domain
@PROPERTY
@given(texts | json_values, texts | json_values)
@example("0001-01-01T00:00:00+01:00", "2026-11-25")
@example("9999-12-31T23:59:59-01:00", "9999-12-31")
@example("2026-11-25T14:31:05Z", "0001-01-01")
def test_observed_at_is_total(received: object, trading_day: object) -> None:
    moment = alphavantage.observed_at(received, trading_day)
    assert moment is None or datetime.fromisoformat(moment).utcoffset() is not None


@pytest.mark.domain
def test_a_yahoo_body_of_odd_shape_still_gives_what_its_meta_holds() -> None:
    chart = copy.deepcopy(CHART)
    chart["chart"]["result"][0]["indicators"] = []
    chart["chart"]["result"][0]["meta"]["regularMarketTime"] = float("nan")
    record = yahoo.parse(dumps(chart))
    assert record is not None
    assert (record["symbol"], record["price"], record["event_ts"]) == ("AAPL", 229.87, None)


@pytest.mark.domain
def test_a_lone_surrogate_or_an_overflowing_moment_becomes_null_and_the_rest_stays() -> None:
    line = dumps({"symbol": "A\ud800", "price": 5, "volume": 1, "currency": "USD",
                  "event_ts": "9999-12-31T23:59:59-01:00"})  # fmt: skip
    row = assert_one_storable_row_per_line((line + "\n").encode()).iloc[0]
    assert pd.isna(row["symbol"]) and pd.isna(row["event_ts"])
    assert (row["parsed"], row["price"], row["day_volume"], row["currency"]) == (
        True,
        5.0,
        1,
        "USD",
    )
    assert list(row.index) == list(CURATED_SCHEMA)


# -- 2. One symbol's odd answer never costs the others; raw always lands first ---------------

CHART_TEXT = (PAYLOADS / "yahoo_chart_AAPL.json").read_text()
ODD_CHARTS = [
    '{"chart": []}',
    '{"chart": null}',
    '{"chart": {"result": [null]}}',
    '{"chart": {"result": "AAPL"}}',
    '{"chart": {"result": {"meta": {}}}}',
    '{"chart": {"error": "boom"}}',
    '{"chart": {"error": ["boom"]}, "result": null}',
    '{"chart": {"result": [{"meta": {"symbol": "ODD"}, "indicators": {"quote": [null]}}]}}',
    '{"chart": {"result": [{"meta": {"symbol": "ODD"}, "indicators": []}]}}',
    '{"chart": {"result": [{"meta": {"symbol": "ODD", "regularMarketTime": NaN}}]}}',
    '{"chart": {"result": [{"meta": {"symbol": "ODD", "regularMarketPrice": Infinity}}]}}',
    '{"chart": {"result": [{"meta": {"symbol": "ODD", "regularMarketTime": 1e20}}]}}',
    '{"chart": {"result": [{"meta": "ODD"}]}}',
    '{"chart": {"result": [{"meta": {"symbol": "\\ud800"}}]}}',
    "[]",
    "null",
    '"a string"',
    "NaN",
    DEEP,
    '{"chart": ' * 5000 + "null" + "}" * 5000,
]


def chart_for(symbol: str) -> str:
    return CHART_TEXT.replace('"AAPL"', f'"{symbol}"')


@pytest.fixture(scope="module")
def yahoo_server() -> Iterator[ProviderServer]:
    with serving(ProviderServer(lambda path, _: path.rsplit("/", 1)[-1], chart_for)) as server:
        yield server


FAST = FetchPolicy(request_timeout_s=2, deadline_s=20, max_attempts=2, backoff_base_s=0.001)
GOOD = ["AAPL", "MSFT"]


def fetch_with_one_odd_answer(server: ProviderServer, body: str) -> bytes:
    """A Yahoo fetch of AAPL, ODD and MSFT where ODD is answered `body` with HTTP 200."""
    server.answers["ODD"] = [(200, body, 0, False)]
    return YahooProvider(["AAPL", "ODD", "MSFT"], FAST, base_url=server.url).fetch(TICK)


def assert_the_odd_symbol_costs_only_itself(payload: bytes, body: str) -> None:
    lines = envelopes(payload)
    assert sorted(lines) == ["AAPL", "MSFT", "ODD"]  # every symbol accounted for
    assert lines["ODD"]["body"] == body  # landed exactly as received, whatever it held
    assert all("error" not in lines[symbol]["fetch"] for symbol in GOOD)
    errors = provider_errors(payload)
    assert errors == ("error" in lines["ODD"]["fetch"])
    frame = assert_one_storable_row_per_line(payload)
    assert len(frame) == 3 - errors  # a landed body is a row, quarantined if unparseable
    good = frame[frame["line"].isin([1, 3])]  # the envelopes of AAPL and MSFT
    assert good["symbol"].tolist() == GOOD and (good["price"] == 229.87).all()


@pytest.mark.system
@pytest.mark.parametrize("body", ODD_CHARTS, ids=range(len(ODD_CHARTS)))
def test_an_odd_200_answer_for_one_symbol_costs_only_that_symbol(
    yahoo_server: ProviderServer, body: str
) -> None:
    assert_the_odd_symbol_costs_only_itself(fetch_with_one_odd_answer(yahoo_server, body), body)


@pytest.mark.system
def test_odd_chart_shapes_are_typed_errors_not_crashes(yahoo_server: ProviderServer) -> None:
    kinds = {}
    for body in ('{"chart": []}', '{"chart": {"error": "boom"}}', DEEP, "[]"):
        lines = envelopes(fetch_with_one_odd_answer(yahoo_server, body))
        kinds[body[:30]] = lines["ODD"]["fetch"]["error"]
    assert kinds == {
        '{"chart": []}': "UnexpectedBody: no chart object",
        '{"chart": {"error": "boom"}}': "ProviderError: boom",
        DEEP[:30]: "UnexpectedBody: JSON nested too deeply",
        "[]": "UnexpectedBody: no chart object",
    }


@pytest.mark.system
@settings(max_examples=40, deadline=None)
@given(body=charts | json_values.map(dumps))
def test_any_200_answer_for_one_symbol_costs_only_that_symbol(
    yahoo_server: ProviderServer, body: str
) -> None:
    body = body.encode("utf-8", "replace").decode()  # what can travel as UTF-8
    assert_the_odd_symbol_costs_only_itself(fetch_with_one_odd_answer(yahoo_server, body), body)


@pytest.mark.domain
@PROPERTY
@given(charts | quotes | bodies, st.sampled_from([200, 404, 429, 500]))
@example(DEEP, 200)
@example('{"chart": {"error": "boom"}}', 200)
@example('{"Information": ' + "[" * 900 + "]" * 900 + "}", 200)
def test_the_provider_checks_are_total(body: str, status: int) -> None:
    """Each check passes an answer or raises a typed FetchError; nothing else escapes."""
    for check in (yahoo.check_response, alphavantage.check_response):
        try:
            check(Answer(status, body))
        except FetchError as error:
            assert error.kind and isinstance(error.retryable, bool)


@pytest.mark.system
def test_a_check_or_a_budget_that_breaks_costs_only_its_symbol(
    yahoo_server: ProviderServer,
) -> None:
    def check(answer: Answer) -> None:
        check_status(answer)
        if '"ODD"' in answer.text:
            raise KeyError("a bug in a check")

    def may_retry() -> bool:
        raise RuntimeError("the budget store is down")

    yahoo_server.answers["ODD"] = [(200, chart_for("ODD"), 0, False)]
    yahoo_server.answers["BUSY"] = [(503, "busy", 0, False)]
    symbols = ["AAPL", "ODD", "BUSY", "MSFT"]
    with httpx.Client(transport=transport()) as client:
        payload = fetch_all(
            "yahoo", yahoo.build_requests(symbols, yahoo_server.url, TICK), check, FAST, client,
            may_retry=may_retry,
        )  # fmt: skip
    lines = envelopes(payload)
    assert sorted(lines) == sorted(symbols)
    assert lines["ODD"]["fetch"]["error"] == "UnexpectedBody: the check failed (KeyError)"
    assert lines["ODD"]["body"] == chart_for("ODD")  # raw still lands
    assert lines["BUSY"]["fetch"]["error"] == "UnexpectedError: RuntimeError"
    assert "error" not in lines["AAPL"]["fetch"] and "error" not in lines["MSFT"]["fetch"]


# -- 8. Every stage of a request has a deadline -----------------------------------------------


@pytest.mark.system
def test_headers_that_trickle_are_cut_off_at_the_request_budget() -> None:
    """The server would take about 75 s to send its headers; the client hangs up at its budget.
    Without the budget covering headers it would wait for all of them (cut_off stays empty)."""
    server = ProviderServer(lambda path, _: path.rsplit("/", 1)[-1], chart_for)
    server.answers["SLOW"] = [(200, chart_for("SLOW"), 0, "headers")]
    policy = FetchPolicy(request_timeout_s=1, deadline_s=2, max_attempts=4, backoff_base_s=0.01)
    with serving(server):
        payload = YahooProvider(["SLOW", "AAPL"], policy, base_url=server.url).fetch(TICK)
        server.wait_idle()  # the server has noticed every hang-up
    lines = envelopes(payload)
    slow = lines["SLOW"]["fetch"]
    assert slow["error"].split(":")[0] in {"Timeout", "DeadlineExceeded"}
    assert "status" not in slow and lines["SLOW"]["body"] is None  # no headers ever arrived
    # Two budgets of 1 s fit the 2 s deadline: at most two attempts, each one hung up on.
    assert 1 <= slow["attempts"] == server.requests.count("SLOW") <= 2
    assert server.cut_off.count("SLOW") == slow["attempts"] and "SLOW" not in server.completed
    assert "error" not in lines["AAPL"]["fetch"]


# -- 6. The API key is never stored, in any encoding ------------------------------------------

SPELLINGS = [
    lambda c: c,
    lambda c: f"\\u{ord(c):04X}",
    lambda c: f"\\u{ord(c):04x}",
    lambda c: f"%{ord(c):02X}",
    lambda c: f"%{ord(c):02x}",
    lambda c: f"&#{ord(c)};",
    lambda c: f"&#x{ord(c):x};",
]
keys = st.from_regex(r"[A-Za-z0-9]{8,64}", fullmatch=True)


@st.composite
def spelled_keys(draw: st.DrawFn) -> tuple[str, str]:
    """A key and one spelling of it: each character literal or escaped, in any mix."""
    key = draw(keys)
    spell = draw(st.lists(st.sampled_from(SPELLINGS), min_size=len(key), max_size=len(key)))
    return key, "".join(f(c) for f, c in zip(spell, key, strict=True))


def decoded_strings(value: object) -> Iterator[str]:
    """Every string in a JSON value, as is and percent- and HTML-decoded."""
    if isinstance(value, str):
        yield from (value, unquote(value), html.unescape(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from decoded_strings(key)
            yield from decoded_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from decoded_strings(item)


@pytest.mark.domain
@PROPERTY
@given(spelled_keys(), st.text(alphabet="abc XYZ019:.", max_size=10))
def test_every_spelling_of_the_key_is_redacted_whatever_its_mix(
    spelled: tuple[str, str], around: str
) -> None:
    key, spelling = spelled
    body = '{"Information": "' + around + spelling + around + '", "k": "' + spelling + '"}'
    redacted = redactor([key])(body)
    assert redacted.count(REDACTED) == 2
    for text in decoded_strings(json.loads(redacted)):
        assert key not in text
    assert key not in unquote(redacted) and key not in html.unescape(redacted)


@pytest.mark.domain
def test_a_body_without_the_key_is_left_exactly_as_received() -> None:
    for name in ("yahoo_chart_AAPL.json", "alphavantage_global_quote_IBM.json"):
        body = (PAYLOADS / name).read_text()
        assert redactor(["K3YS3CR3T0000042", "abcdEFGH1234"])(body) == body
