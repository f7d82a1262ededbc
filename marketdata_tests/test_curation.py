import pandas as pd

from marketdata_assets.contracts import dtype_violations
from marketdata_assets.curation import CURATED_SCHEMA, curate, split_lines
from marketdata_tests.conftest import good, line


def _one(record_line: str, tick) -> pd.Series:
    frame = curate((record_line + "\n").encode(), tick)
    assert len(frame) == 1
    return frame.iloc[0]


def test_lower_case_padded_symbol_is_standardised(tick) -> None:
    assert _one(line(**good(symbol="  brk.b ")), tick)["symbol"] == "BRK.B"


def test_numeric_strings_become_numbers(tick) -> None:
    row = _one(line(**good(price=" 101.25 ", volume="300")), tick)
    assert row["price"] == 101.25 and row["volume"] == 300


def test_non_utc_offset_is_stored_in_utc(tick) -> None:
    row = _one(line(**good(event_ts="2026-11-25T09:31:05.250-05:00")), tick)
    assert row["event_ts"] == pd.Timestamp("2026-11-25T14:31:05.250Z")


def test_currency_is_upper_cased_and_extra_fields_are_dropped(tick) -> None:
    frame = curate((line(**good(currency="usd", exchange="XNAS")) + "\n").encode(), tick)
    assert frame.loc[0, "currency"] == "USD"
    assert list(frame.columns) == list(CURATED_SCHEMA)


def test_values_that_cannot_be_standardised_become_null(tick) -> None:
    row = _one(line(symbol=7, price=True, volume=1.5, currency=None, event_ts="14:31"), tick)
    assert row[["symbol", "price", "volume", "currency", "event_ts"]].isna().all()


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
    frame = curate(b"{}\n", tick).astype({"price": "str"}).drop(columns=["volume"])
    assert dtype_violations(frame, CURATED_SCHEMA) == [
        "missing column volume",
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
    from marketdata_assets.curation import conform

    frame = curate(line(**good()).encode() + b"\n", tick).astype({"event_ts": object})
    frame.loc[0, "event_ts"] = "99999-01-01T00:00:00Z"
    assert pd.isna(conform(frame).loc[0, "event_ts"])
