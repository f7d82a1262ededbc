"""Every row of a history file is accounted for exactly once per backfill (issue 20, item 2): a
row of a session in the range is validated or quarantined there, a row of no session a backfill
can run (unreadable, a closed day, before 2010-01-04, not ended, any year 0001-9999) is
quarantined once in the backfill's first session with its reason, a row of a session outside
the range is counted as `outside_range`; `rows == validated + quarantined + outside_range` in
the `--json` summary, across batches of sessions. Parquet cells are never re-split by text, and
a file is parsed once per backfill."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.cli import main
from marketdata_assets.lake.codecs import decode, unpacked
from marketdata_assets.market.calendar import session_minutes, sessions_in
from marketdata_assets.providers.file import table
from marketdata_assets.providers.file.history import FileHistory
from marketdata_assets.providers.history_parse import parse_history, row_text
from marketdata_assets.stores import lake_store

HEADER = "symbol,ts,open,high,low,close,volume"
# Twelve sessions (two batches of the backfill), Thanksgiving 2025 inside.
FIRST, LAST = date(2025, 11, 17), date(2025, 12, 3)
SESSIONS = sessions_in(FIRST, LAST)
NOT_ENDED = date(2027, 3, 1)  # a session (a Monday) whose day has not come


def bar(symbol: str, ts: str, price: float = 100.0) -> str:
    return f"{symbol},{ts},{price},{price + 1},{price - 1},{price + 0.5},1000"


def minute(session: date, index: int = 0) -> str:
    return session_minutes(session)[index].isoformat().replace("+00:00", "Z")


def run_json(
    capsys: pytest.CaptureFixture[str],
    path: Path,
    first: date = FIRST,
    last: date = LAST,
    *flags: str,
) -> dict[str, object]:
    """`marketdata backfill --json` over the file: its summary (the run succeeded)."""
    code = main(["backfill", "--from", first.isoformat(), "--to", last.isoformat(),
                 "--provider", "file", "--source", str(path), "--json", *flags])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(out)
    assert isinstance(summary, dict)
    return summary


def quarantined(data: Path) -> pd.DataFrame:
    """Every bars_quarantine row in the lake, with its session."""
    lake = lake_store_of(data)
    frames = [decode("bars_quarantine", lake.get(key)) for key in lake.keys("bars_quarantine/")]
    rows = [frame for frame in frames if isinstance(frame, pd.DataFrame) and len(frame)]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["raw", "reasons"])


def lake_store_of(data: Path):  # type: ignore[no-untyped-def]
    from marketdata_assets.settings import Settings

    return lake_store(Settings(data_dir=data))


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(folder))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral instance per backfill
    monkeypatch.delenv("MARKETDATA_PROVIDER", raising=False)
    monkeypatch.delenv("MARKETDATA_SYMBOLS", raising=False)
    return folder


# --- the source: one home per row ---------------------------------------------------------------


@pytest.mark.domain
def test_a_parquet_cell_holding_newlines_stays_one_row_whose_text_is_whole(tmp_path: Path) -> None:
    session = SESSIONS[0]
    starts = [pd.Timestamp(minute(session, i)) for i in range(3)]
    frame = pd.DataFrame(
        {
            "symbol": ["AAPL", "AAPL\nMSFT", "AAPL\r\nX\n\n\n\n\nY"],
            "ts": starts,
            **{name: [100.0, 100.0, 100.0] for name in ("open", "high", "low", "close")},
            "volume": [10.0, 10.0, 10.0],
        }
    )
    path = tmp_path / "bars.parquet"
    frame.to_parquet(path)
    source = FileHistory(str(path), first_session=session)
    raw = source.fetch(session, source.symbols())
    candidates = parse_history(raw, session).candidates
    assert len(candidates) == 3  # one row each, however many newlines a cell holds
    texts = [row_text(raw, int(r.line), int(r.item)) for r in candidates.itertuples()]
    cells = sorted(json.loads(text)[0] for text in texts)
    assert cells == sorted(frame["symbol"])  # each row's text is the whole record


@pytest.mark.domain
def test_every_row_has_one_home_or_is_outside_the_range(tmp_path: Path) -> None:
    sunday, before = "2025-11-23T15:00:00Z", "2009-12-31T15:00:00Z"
    rows = [
        bar("AAPL", minute(SESSIONS[0])),
        bar("AAPL", minute(SESSIONS[-1])),
        bar("AAPL", "not-a-time"),
        bar("AAPL", sunday),
        bar("AAPL", before),
        bar("AAPL", minute(NOT_ENDED)),
        bar("AAPL", "0001-01-01T00:00Z"),
        bar("AAPL", "9999-12-31T10:00Z"),
        bar("AAPL", minute(date(2025, 11, 14))),  # a session before the range
        bar("MSFT", minute(SESSIONS[3])),
    ]
    path = tmp_path / "bars.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    source = FileHistory(str(path), first_session=FIRST)
    landed = []
    for session in SESSIONS:
        raw = source.fetch(session, ["AAPL", "MSFT"])
        landed += [(session, row_text(raw, int(r.line), int(r.item)))
                   for r in parse_history(raw, session).candidates.itertuples()]  # fmt: skip
    assert sorted(text for _, text in landed) == sorted(rows[:8] + rows[9:])
    assert {text for session, text in landed if session == FIRST} >= set(rows[2:8])
    assert source.outside_range(FIRST, LAST, ["AAPL", "MSFT"]) == 1
    assert source.outside_range(FIRST, LAST, ["MSFT"]) == 0


@pytest.mark.graph
def test_a_file_is_parsed_once_for_a_backfill_of_many_batches(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("\n".join([HEADER, *(bar("AAPL", minute(s)) for s in SESSIONS)]) + "\n")
    parses: list[str] = []
    real = table.parse

    def counted(resolved: str, source: str) -> table.FileTable:
        parses.append(resolved)
        return real(resolved, source)

    table._cached.cache_clear()
    monkeypatch.setattr(table, "parse", counted)
    summary = run_json(capsys, path)
    assert summary["sessions"] == len(SESSIONS) > 10  # two batches, each a Dagster run
    assert parses == [str(path.resolve())]
    path.write_text(path.read_text() + bar("AAPL", minute(SESSIONS[0], 1)) + "\n")
    run_json(capsys, path)  # a changed file is read again
    assert len(parses) == 2


# --- the backfill: every row counted once -------------------------------------------------------


@pytest.mark.graph
def test_eighteen_rows_across_two_batches_are_each_counted_once(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = [bar("AAPL", minute(s)) for s in SESSIONS]  # 12 rows, one per session
    bad = [
        bar("AAPL", "not-a-time"),
        bar("AAPL", "2025-11-25 10:00"),  # no offset
        bar("AAPL", "2025-11-27T15:00:00Z"),  # Thanksgiving
        bar("AAPL", "2025-11-22T15:00:00Z"),  # a Saturday
        bar("AAPL", minute(SESSIONS[2]), price=-1.0),  # a bad price on its session
        bar("AAPL", minute(date(2025, 11, 10))),  # a session before the range
    ]
    path = tmp_path / "bars.csv"
    path.write_text("\n".join([HEADER, *good, *bad]) + "\n")
    summary = run_json(capsys, path)
    assert summary["rows"] == 18
    assert (summary["validated"], summary["quarantined"], summary["outside_range"]) == (12, 5, 1)
    quarantine = quarantined(data)
    assert sorted(quarantine["raw"]) == sorted(bad[:5])  # each bad row once
    pairs = zip(quarantine["raw"], quarantine["reasons"], strict=True)
    by_reason = {row: list(reasons) for row, reasons in pairs}
    assert by_reason[bad[0]] == by_reason[bad[1]] == ["unparseable_ts"]
    assert by_reason[bad[2]] == by_reason[bad[3]] == ["no_session"]
    assert set(quarantine["session"].dt.date[quarantine["raw"] != bad[4]]) == {FIRST}


@pytest.mark.graph
def test_a_two_line_file_over_a_wide_range_writes_its_bad_row_once(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, last = date(2025, 10, 17), date(2025, 11, 14)  # 21 sessions, three batches
    path = tmp_path / "bars.csv"
    path.write_text("\n".join([HEADER, bar("AAPL", minute(first)), bar("AAPL", "garbage")]) + "\n")
    summary = run_json(capsys, path, first, last)
    assert (summary["rows"], summary["validated"], summary["quarantined"]) == (2, 1, 1)
    assert list(quarantined(data)["raw"]) == [bar("AAPL", "garbage")]
    lake = lake_store_of(data)
    raws = [unpacked(key, lake.get(key)) for key in lake.keys("raw_history/")]
    assert sum(raw.count(b"garbage") for raw in raws) == 1


@pytest.mark.graph
def test_rows_before_2010_not_ended_or_at_extreme_years_are_quarantined_not_a_crash(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {
        "before_first_session": [bar("AAPL", "2009-12-31T15:00:00Z"),
                                 bar("AAPL", "0001-01-01T00:00Z")],
        "not_ended": [bar("AAPL", minute(NOT_ENDED)), bar("AAPL", "9999-12-31T10:00Z"),
                      bar("AAPL", "9999-12-31T23:59:59.999999999+00:00")],
    }  # fmt: skip
    path = tmp_path / "bars.csv"
    body = [bar("AAPL", minute(SESSIONS[0])), *(row for group in rows.values() for row in group)]
    path.write_text("\n".join([HEADER, *body]) + "\n")
    summary = run_json(capsys, path, SESSIONS[0], SESSIONS[0])
    assert (summary["rows"], summary["validated"], summary["quarantined"]) == (6, 1, 5)
    quarantine = quarantined(data)
    got = {text: list(reasons) for text, reasons in zip(quarantine["raw"], quarantine["reasons"],
                                                        strict=True)}  # fmt: skip
    assert got == {row: [reason] for reason, group in rows.items() for row in group}


@pytest.mark.graph
def test_rows_outside_the_requested_range_are_counted_not_landed(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("\n".join([HEADER, *(bar("AAPL", minute(s)) for s in SESSIONS)]) + "\n")
    summary = run_json(capsys, path, SESSIONS[4], SESSIONS[5])
    assert (summary["rows"], summary["validated"], summary["outside_range"]) == (12, 2, 10)
    assert summary["quarantined"] == 0
    assert sorted(lake_store_of(data).keys("raw_history/")) == [
        f"raw_history/date={s.isoformat()}/part.jsonl.gz" for s in SESSIONS[4:6]
    ]


# --- the property: rows in == validated + quarantined + outside_range ----------------------------

TIMES = st.one_of(
    st.builds(
        minute,
        st.sampled_from(sessions_in(date(2025, 11, 10), date(2025, 12, 10))),
        st.integers(0, 209),
    ),
    st.sampled_from(
        [
            "not-a-time",
            "",
            "2025-11-27T15:00:00Z",
            "2025-11-29T15:00:00Z",
            "2009-06-01T15:00:00Z",
            "0001-01-01T00:00Z",
            "9999-12-31T10:00Z",
            minute(NOT_ENDED),
            "2025-11-25T10:00",
        ]
    ),
)
ROWS = st.lists(
    st.builds(
        bar, st.sampled_from(["AAPL", "MSFT", ""]), TIMES, st.sampled_from([100.0, -1.0, 50.25])
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.graph
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=ROWS)
def test_every_row_of_any_file_is_validated_quarantined_or_outside_the_range(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path_factory.mktemp("property")
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(folder / "data"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("MARKETDATA_PROVIDER", raising=False)
    monkeypatch.delenv("MARKETDATA_SYMBOLS", raising=False)
    path = folder / "bars.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    symbols = sorted({row.split(",")[0] for row in rows} - {""}) or ["AAPL"]
    summary = run_json(capsys, path, FIRST, LAST, "--symbols", ",".join(symbols))
    assert summary["rows"] == len(rows)
    assert (
        summary["rows"] == summary["validated"] + summary["quarantined"] + summary["outside_range"]
    )
    assert len(quarantined(folder / "data")) == summary["quarantined"]
