import pandas as pd

from marketdata_assets.curation import CURATED_SCHEMA, curate, schema_violations, split_lines
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
    assert schema_violations(curate(b"", tick)) == []
    assert schema_violations(curate(b"garbage\n", tick)) == []


def test_schema_violations_name_the_column(tick) -> None:
    frame = curate(b"{}\n", tick).astype({"price": "str"}).drop(columns=["volume"])
    assert schema_violations(frame) == [
        "missing column volume",
        "column price is str, expected float64",
    ]
