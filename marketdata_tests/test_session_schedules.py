"""Dagster's tick and freshness schedules: New York session crons, as the AWS Scheduler's, and
the market calendar's skip."""

import itertools
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import RunRequest, SkipReason, build_schedule_context
from dagster._utils.schedules import schedule_execution_time_iterator

from marketdata_assets.defs.freshness import AS_OF_TAG
from marketdata_assets.defs.schedules import SESSION_CRONS, freshness_schedule, tick_schedule
from marketdata_assets.market.calendar import session_minutes
from marketdata_assets.market.ticks import TICK_TAG
from marketdata_assets.operations.time_budget import TICK_INTERVAL_S

pytestmark = pytest.mark.graph

NEW_YORK = ZoneInfo("America/New_York")
SCHEDULE_TF = Path(__file__).resolve().parents[1] / "infra" / "schedule.tf"
AWS_DAYS = {"SUN": "0", "MON": "1", "TUE": "2", "WED": "3", "THU": "4", "FRI": "5", "SAT": "6"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def unix_cron(aws: str) -> str:
    """An AWS cron (minutes hours day-of-month month day-of-week year) in Unix form."""
    minute, hour, dom, month, dow, year = aws.split()
    assert year == "*"
    dow = re.sub("|".join(AWS_DAYS), lambda m: AWS_DAYS[m[0]], dow)
    return " ".join(field.replace("?", "*") for field in (minute, hour, dom, month, dow))


def test_the_crons_are_the_aws_schedulers() -> None:
    terraform = SCHEDULE_TF.read_text()
    aws_crons = re.findall(r'"cron\(([^)]+)\)"', terraform)
    assert {unix_cron(cron) for cron in aws_crons} == set(SESSION_CRONS)
    assert 'schedule_expression_timezone = "America/New_York"' in terraform
    for schedule in (tick_schedule, freshness_schedule):
        assert set(schedule.cron_schedule) == set(SESSION_CRONS)
        assert schedule.execution_timezone == "America/New_York"


@pytest.mark.parametrize("day", ["2026-11-25", "2026-11-27", "2026-03-09", "2026-11-02"])
def test_the_crons_fire_at_every_session_minute_once_an_interval_apart(day: str) -> None:
    """On a regular day, an early close (which the calendar then skips) and both DST changes."""
    start = at(f"{day}T00:00").timestamp()
    fires = []
    for fire in schedule_execution_time_iterator(start, list(SESSION_CRONS), "America/New_York"):
        if fire.date().isoformat() != day:
            break
        fires.append(fire.astimezone(UTC))
    minutes = [m.to_pydatetime() for m in session_minutes(datetime.fromisoformat(day).date())]
    if day == "2026-11-27":  # early close: the crons run to 16:00, the calendar stops at 13:00
        assert fires[: len(minutes)] == minutes and len(fires) == 390
    else:
        assert fires == minutes
    assert {(b - a).total_seconds() for a, b in itertools.pairwise(fires)} == {TICK_INTERVAL_S}


def test_a_session_minute_requests_that_tick() -> None:
    request = tick_schedule(build_schedule_context(scheduled_execution_time=at("2026-11-25T09:31")))
    assert isinstance(request, RunRequest)
    assert request.run_key == "2026-11-25T14:31Z"
    assert request.tags == {TICK_TAG: "2026-11-25T14:31Z"}  # for filtering runs
    assert request.run_config == {  # the minute the run processes
        "resources": {"tick_run": {"config": {"minute": "2026-11-25T14:31Z"}}}
    }


@pytest.mark.parametrize(
    "minute",
    [
        "2026-11-26T11:00",  # Thanksgiving
        "2026-11-27T13:00",  # after the 13:00 early close
        "2026-11-27T15:59",
    ],
)
def test_holidays_and_early_closes_are_skipped(minute: str) -> None:
    skip = tick_schedule(build_schedule_context(scheduled_execution_time=at(minute)))
    assert isinstance(skip, SkipReason)
    assert "NYSE is closed" in (skip.skip_message or "")


def test_the_last_minute_before_an_early_close_still_ticks() -> None:
    context = build_schedule_context(scheduled_execution_time=at("2026-11-27T12:59"))
    assert isinstance(tick_schedule(context), RunRequest)


def test_the_freshness_schedule_judges_its_own_minute_even_on_holidays() -> None:
    """On a holiday the check runs and passes (market closed): the watch is seen running."""
    for minute, tag in (
        ("2026-11-25T09:31", "2026-11-25T14:31Z"),
        ("2026-11-26T11:00", "2026-11-26T16:00Z"),
    ):
        context = build_schedule_context(scheduled_execution_time=at(minute))
        request = freshness_schedule(context)
        assert isinstance(request, RunRequest) and request.tags == {AS_OF_TAG: tag}
