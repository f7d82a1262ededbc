"""A backfill range holds sessions that can run, or is refused in one line saying why (issue 21,
item 6): before the first partition (2010-01-04, the whole range: nothing of it runs), a day
that is not a session (the holiday's name, the weekday), after the last session that has ended.
Every backfill the platform suggests is one `backfill` accepts and that covers what was asked
(`backfill_range.suggested`, the one place a hint's range is made)."""

from __future__ import annotations

import shlex
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.cli import main
from marketdata_assets.cli import parser as cli_parser
from marketdata_assets.market.backfill_range import refusal, suggested, unfillable
from marketdata_assets.market.calendar import (
    FIRST_SESSION,
    last_ended_session,
    last_known_day,
    sessions_in,
)

# Sunday 2026-12-06 19:00 New York: the last session that has ended is Friday 2026-12-04.
NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
END = last_known_day()


@pytest.mark.domain
@pytest.mark.parametrize(
    ("first", "last", "why"),
    [
        (
            "2009-12-30",
            "2010-01-05",
            "--from 2009-12-30: before the first session a backfill can run, 2010-01-04 "
            "(start the range there or later)",
        ),
        ("2026-11-26", "2026-11-26", "2026-11-26 is not an NYSE session: Thanksgiving"),
        ("2026-11-28", "2026-11-28", "2026-11-28 is not an NYSE session: a Saturday"),
        (
            "2026-11-28",
            "2026-11-29",
            "--from 2026-11-28 --to 2026-11-29: no NYSE session in the range "
            "(2026-11-28 a Saturday, 2026-11-29 a Sunday)",
        ),
        (
            "2026-12-05",
            "2026-12-11",
            "--from 2026-12-05 --to 2026-12-11: after the last session that has ended, 2026-12-04",
        ),
        ("2025-01-09", "2025-01-09", "2025-01-09 is not an NYSE session: a special closure"),
    ],
)
def test_a_range_without_sessions_that_can_run_says_why(first: str, last: str, why: str) -> None:
    assert refusal(date.fromisoformat(first), date.fromisoformat(last), NOW) == why


@pytest.mark.domain
def test_a_range_with_an_ended_session_is_accepted() -> None:
    assert refusal(date(2026, 11, 26), date(2026, 12, 11), NOW) is None  # 11-27 .. 12-04 run
    assert refusal(FIRST_SESSION, FIRST_SESSION, NOW) is None


@pytest.mark.graph
@pytest.mark.parametrize(
    ("first", "last", "named"),
    [
        ("2009-12-30", "2010-01-05", "2010-01-04"),
        ("2026-11-26", "2026-11-26", "2026-11-26 is not an NYSE session: Thanksgiving"),
        ("2026-11-28", "2026-11-29", "2026-11-28 a Saturday, 2026-11-29 a Sunday"),
        ("2099-01-05", "2099-01-09", "after the last session that has ended, "),
    ],
)
def test_the_cli_refuses_it_in_one_line_exit_2_writing_nothing(
    first: str,
    last: str,
    named: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["backfill", "--from", first, "--to", last, "--symbols", "AAPL"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("marketdata: error: ")
    assert named in err
    assert list(tmp_path.iterdir()) == []  # no data folder, no Dagster instance


asked_days = st.dates(min_value=date(2005, 1, 1), max_value=date(2028, 12, 31))


@pytest.mark.domain
@settings(max_examples=300, deadline=None)
@given(first=asked_days, length=st.integers(min_value=0, max_value=60))
def test_every_suggested_backfill_parses_and_covers_what_can_be_filled(
    first: date, length: int
) -> None:
    last = first + timedelta(days=length)
    command = suggested(first, last, ["AAPL"], NOW)
    args = cli_parser().parse_args(shlex.split(command)[1:])
    lo, hi = date.fromisoformat(args.first), date.fromisoformat(args.last)
    assert refusal(lo, hi, NOW) is None, command  # backfill accepts it
    assert lo in sessions_in(lo, lo) and hi <= last_ended_session(NOW)  # a session, ended
    fillable = sessions_in(max(first, FIRST_SESSION), min(last, last_ended_session(NOW)))
    if fillable:  # it fills exactly the sessions of the ask that can be filled
        assert sessions_in(lo, hi) == fillable
    else:  # nothing asked can be: one session, the nearest ended at or before the ask's end
        assert lo == hi


@pytest.mark.domain
@settings(max_examples=100, deadline=None)
@given(first=asked_days, length=st.integers(min_value=0, max_value=60))
def test_a_hint_says_why_exactly_when_it_names_a_session_outside_the_ask(
    first: date, length: int
) -> None:
    last = first + timedelta(days=length)
    fillable = sessions_in(max(first, FIRST_SESSION), min(last, last_ended_session(NOW)))
    assert (unfillable(first, last, NOW) is None) == bool(fillable)


@pytest.mark.domain
@pytest.mark.parametrize(
    ("first", "last", "why"),
    [
        ("2026-11-26", "2026-11-26", "2026-11-26 is not an NYSE session (Thanksgiving)"),
        (
            "2026-11-28",
            "2026-11-29",
            "no NYSE session in the range (2026-11-28 a Saturday, 2026-11-29 a Sunday)",
        ),
        ("2026-12-07", "2026-12-07", "2026-12-07 has not ended yet"),
        ("2026-12-07", "2026-12-11", "no session of it has ended yet"),
        ("2009-12-01", "2009-12-31", "the history starts at 2010-01-04"),
        ("2009-12-26", "2009-12-27", "the history starts at 2010-01-04"),  # closed, before it
        ("9999-12-31", "9999-12-31", f"9999-12-31 is beyond the NYSE calendar, which ends {END}"),
        ("2026-12-04", "9999-12-31", None),  # its calendar's part holds an ended session
    ],
)
def test_the_reason_names_the_closed_days_or_what_has_not_ended(
    first: str, last: str, why: str | None
) -> None:
    assert unfillable(date.fromisoformat(first), date.fromisoformat(last), NOW) == why


@pytest.mark.graph
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=asked_days, length=st.integers(min_value=0, max_value=20))
def test_every_suggested_backfill_plans_without_error(
    first: date, length: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from marketdata_assets.execution import backfill
    from marketdata_assets.settings import Settings

    command = suggested(first, first + timedelta(days=length), ["AAPL"])  # the present's hint
    args = cli_parser().parse_args(shlex.split(command)[1:])
    folder = tmp_path_factory.mktemp("suggested") / "data"
    plan = backfill.plan(
        Settings(data_dir=folder),
        date.fromisoformat(args.first),
        date.fromisoformat(args.last),
        ["AAPL"],
        "stub",
        None,
        False,
    )
    assert plan.sessions and sorted(plan.todo) == plan.sessions
