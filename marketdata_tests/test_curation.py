import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from marketdata_assets.market.records import Quote
from marketdata_assets.providers import flat
from marketdata_assets.providers.alphavantage import quotes as alphavantage
from marketdata_assets.providers.yahoo import quotes as yahoo
from marketdata_assets.tick.contracts import curated_violations, dtype_violations
from marketdata_assets.tick.curation import CURATED_SCHEMA, curate, flat_quote, split_lines
from marketdata_tests.conftest import good, line

pytestmark = pytest.mark.domain

PAYLOADS = Path(__file__).with_name("payloads")
QUOTE_FIELDS = {field.name for field in dataclasses.fields(Quote)}


def _one(record_line: str, tick) -> pd.Series:
    frame = curate((record_line + "\n").encode(), tick)
    assert len(frame) == 1
    return frame.iloc[0]


def test_lower_case_padded_symbol_is_standardised(tick) -> None:
    assert _one(line(**good(symbol="  brk.b ")), tick)["symbol"] == "BRK.B"


def test_numeric_strings_become_numbers(tick) -> None:
    row = _one(line(**good(price=" 101.25 ", volume="300")), tick)
    assert row["price"] == 101.25 and row["day_volume"] == 300


def test_non_utc_offset_is_stored_in_utc(tick) -> None:
    row = _one(line(**good(event_ts="2026-11-25T09:31:05.250-05:00")), tick)
    assert row["event_ts"] == pd.Timestamp("2026-11-25T14:31:05.250Z")


def test_currency_is_upper_cased_and_extra_fields_are_dropped(tick) -> None:
    frame = curate((line(**good(currency="usd", bid=99.5)) + "\n").encode(), tick)
    assert frame.loc[0, "currency"] == "USD"
    assert list(frame.columns) == list(CURATED_SCHEMA)


def test_exchange_zone_and_trading_day_are_standardised(tick) -> None:
    fields = {"exchange": " NYQ ", "exchange_tz": " Europe/London ", "trading_day": "2026-11-25"}
    row = _one(line(**good(**fields)), tick)
    assert (row["exchange"], row["exchange_tz"]) == ("NYQ", "Europe/London")
    assert row["trading_day"] == pd.Timestamp("2026-11-25")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("exchange", "   "),
        ("exchange", 7),
        ("exchange", ["NYQ"]),
        ("exchange_tz", "Mars/Olympus_Mons"),
        ("exchange_tz", "America"),  # a folder of the tz database, not a zone
        ("exchange_tz", "/etc/localtime"),
        ("exchange_tz", "America/New_York\x00"),
        ("exchange_tz", -5),
        ("trading_day", "2026-02-30"),
        ("trading_day", "20261125"),  # ISO, but not the form any provider sends
        ("trading_day", "2026-11-25T14:31:05Z"),
        ("trading_day", "\u0662\u0660\u0662\u0666-11-25"),  # non-ASCII digits
        ("trading_day", 20261125),
    ],
)
def test_an_exchange_zone_or_day_that_makes_no_sense_becomes_null_and_the_row_stays(
    tick, field: str, value: object
) -> None:
    row = _one(line(**good(**{field: value})), tick)
    assert pd.isna(row[field]) and row["parsed"] and row["price"] == 100.0


def test_values_that_cannot_be_standardised_become_null(tick) -> None:
    row = _one(line(symbol=7, price=True, volume=1.5, currency=None, event_ts="14:31"), tick)
    assert row[["symbol", "price", "day_volume", "currency", "event_ts"]].isna().all()


def test_the_curated_columns_are_the_quote_fields_plus_line_parsed_and_tick() -> None:
    assert set(CURATED_SCHEMA) == QUOTE_FIELDS | {"line", "parsed", "tick"}


def test_every_provider_maps_onto_every_quote_field_exactly_once() -> None:
    chart = (PAYLOADS / "yahoo_chart_AAPL.json").read_text()
    quote = (PAYLOADS / "alphavantage_global_quote_IBM.json").read_text()
    for record in (
        flat_quote(good()),
        yahoo.parse(chart),
        alphavantage.parse(quote, {"at": "2026-11-25T19:31:05Z"}),
    ):
        assert record is not None and set(record) == QUOTE_FIELDS
    # Each table names each provider field once: no field feeds two Quote fields.
    for table in (flat.QUOTE_FIELDS, yahoo.QUOTE_FIELDS, alphavantage.QUOTE_FIELDS):
        assert set(table) <= QUOTE_FIELDS and len(set(table.values())) == len(table)


def test_the_curated_contract_names_an_unknown_zone_or_a_timed_trading_day(tick) -> None:
    raw = (line(**good(exchange_tz="Europe/London", trading_day="2026-11-25")) + "\n").encode()
    curated = curate(raw, tick)
    assert curated_violations(curated, raw, tick) == []
    curated.loc[0, "exchange_tz"] = "Europe/Londres"
    curated.loc[0, "trading_day"] = pd.Timestamp("2026-11-25 09:30")
    assert curated_violations(curated, raw, tick) == [
        "lines 1: exchange_tz not a known zone",
        "lines 1: trading_day not a date (midnight)",
    ]


def test_every_line_becomes_exactly_one_row_garbage_included(tick) -> None:
    payload = b'{"symbol": "A"}\nnot json\n\n[1, 2]\n\xff\xfe\n{"symbol": "B"}'
    frame = curate(payload, tick)
    assert len(frame) == len(split_lines(payload)) == 6
    assert frame["parsed"].tolist() == [True, False, False, False, False, True]
    assert frame["line"].tolist() == [1, 2, 3, 4, 5, 6]


def test_curated_frames_match_the_schema_even_when_empty(tick) -> None:
    assert dtype_violations(curate(b"", tick), CURATED_SCHEMA) == []
    assert dtype_violations(curate(b"garbage\n", tick), CURATED_SCHEMA) == []


def test_schema_violations_name_the_column(tick) -> None:
    frame = curate(b"{}\n", tick).astype({"price": "str"}).drop(columns=["day_volume"])
    assert dtype_violations(frame, CURATED_SCHEMA) == [
        "missing column day_volume",
        "column price is str, expected float64",
    ]


def test_a_string_with_a_lone_surrogate_is_not_standardisable_and_the_row_still_stores(
    tick,
) -> None:
    from marketdata_assets.lake.codecs import encode

    frame = curate(b'{"symbol": "AA\\ud800PL", "currency": "\\udfff", "price": 1}\n', tick)
    assert frame[["symbol", "currency"]].isna().all(axis=None) and frame.loc[0, "price"] == 1.0
    assert encode("curated", frame)  # Parquet takes it


def test_a_moment_outside_the_utc_range_becomes_null(tick) -> None:
    for moment in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"):
        assert pd.isna(_one(line(**good(event_ts=moment)), tick)["event_ts"])
    assert _one(line(**good(event_ts="9999-12-31T23:59:59Z")), tick)["event_ts"].year == 9999


def test_an_envelope_whose_body_is_not_text_is_one_unparseable_row(tick) -> None:
    envelope = {"fetch": {"provider": "yahoo", "symbol": "A", "at": "x"}, "body": {"chart": 1}}
    row = _one(line(**envelope), tick)
    assert not row["parsed"] and pd.isna(row["symbol"])


def test_a_conformed_frame_nulls_moments_pandas_cannot_hold(tick) -> None:
    from marketdata_assets.tick.curation import conform

    frame = curate(line(**good()).encode() + b"\n", tick).astype({"event_ts": object})
    frame.loc[0, "event_ts"] = "99999-01-01T00:00:00Z"
    assert pd.isna(conform(frame).loc[0, "event_ts"])


def test_trading_days_at_the_ends_of_the_calendar_store_and_read_back(tick) -> None:
    from marketdata_assets.lake.codecs import decode, encode

    days = ("0001-01-01", "9999-12-31")
    raw = "".join(line(**good(symbol=f"S{i}", trading_day=d)) + "\n" for i, d in enumerate(days))
    stored = decode("curated", encode("curated", curate(raw.encode(), tick)))
    assert isinstance(stored, pd.DataFrame)
    assert dtype_violations(stored, CURATED_SCHEMA) == []
    assert [d.date().isoformat() for d in stored["trading_day"]] == list(days)
