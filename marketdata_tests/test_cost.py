"""`marketdata cost` (issue 22, items 2 and 4): a dated price table, the lifecycle the Terraform
declares (read from infra/, so a changed rule moves the figure), items that sum to the totals,
per-symbol items that scale with the symbols and per-tick ones that do not, one-line refusals.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdata_assets.cli import main
from marketdata_assets.cost import lifecycle
from marketdata_assets.cost.bill import Design, bill
from marketdata_assets.cost.infra import INFRA, Infra
from marketdata_assets.cost.measure import Measurement, TickCost
from marketdata_assets.cost.pricing import prices
from marketdata_assets.providers.yahoo import quotes
from marketdata_assets.providers.yahoo.stand_in import chart_body

KEYS = {"symbols", "schedule", "ticks_per_month", "per_tick", "monthly_usd", "items"}
ITEM_KEYS = {"item", "quantity", "unit_usd", "month_1_usd", "month_12_usd"}
# Items that grow with the symbols, and items a tick costs whatever its symbols.
PER_SYMBOL = ("DynamoDB write request units", "S3 Standard storage")
PER_TICK = (
    "Lambda requests",
    "EventBridge Scheduler invocations",
    "S3 PUT, COPY, POST, LIST requests",
    "S3 GET and other requests",
    "CloudWatch custom metrics",
    "CloudWatch alarm metrics",
    "ECR image storage",
)


def tick(raw_bytes: float = 50_000, quarantine_bytes: float = 3_000) -> TickCost:
    """A hand-made tick (what `measure` returns) for the domain tests."""
    return TickCost(
        requests={"s3.PutObject": 7, "s3.GetObject": 8, "dynamodb.UpdateItem": 10},
        write_units=10,
        read_units=0,
        kept_bytes={"raw/": raw_bytes, "quarantine/": quarantine_bytes, "curated/": 9_000},
        object_bytes={"raw/": raw_bytes, "quarantine/": quarantine_bytes, "curated/": 9_000},
        deleted_bytes=100,
        raw_plain_bytes=raw_bytes,
        compute_s=0.5,
        aws_s=0.2,
        log_bytes=900,
    )


def measured(opened: TickCost) -> Measurement:
    closed = replace(opened, requests={"s3.PutObject": 1}, write_units=0, kept_bytes={})
    return Measurement(10, "stub", opened, replace(closed, object_bytes={}), 2_000)


def item(shown: dict, name: str) -> dict:
    return next(i for i in shown["items"] if i["item"].startswith(name))


def copied_infra(tmp_path: Path) -> Path:
    folder = tmp_path / "infra"
    shutil.copytree(INFRA, folder, ignore=shutil.ignore_patterns(".terraform*", "tests"))
    return folder


@pytest.mark.domain
def test_every_price_names_its_date_and_source() -> None:
    table = prices()
    assert len(table) >= 20
    for name, entry in table.items():
        assert entry["usd"] > 0, name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["date"]), name
        assert entry["source"].startswith("https://aws.amazon.com/"), name
        assert entry["unit"] and entry["free_tier"], name


@pytest.mark.domain
def test_the_lifecycle_rules_are_the_ones_storage_tf_declares() -> None:
    rules = {rule.id: rule for rule in lifecycle.rules(Infra())}
    text = (INFRA / "storage.tf").read_text()
    for rule_id in rules:
        assert f'id     = "{rule_id}"' in text
    assert rules["raw"].prefix == "raw/" and rules["raw"].storage_class == "STANDARD_IA"
    assert rules["noncurrent-versions-and-uploads"].prefix == ""


@pytest.mark.domain
def test_month_12_storage_moves_when_a_rule_in_infra_changes(tmp_path: Path) -> None:
    folder = copied_infra(tmp_path)
    design = Design("session", 1024)
    before = bill(measured(tick()), design, Infra(folder)).as_dict(10)
    storage = folder / "storage.tf"
    text = storage.read_text()
    quarantine = text.index('id     = "quarantine"')
    days = text.index("days = 30", quarantine)
    storage.write_text(text[:days] + "days = 300" + text[days + len("days = 30") :])
    after = bill(measured(tick()), design, Infra(folder)).as_dict(10)
    grown = item(after, "S3 Standard storage")["quantity"] - item(before, "S3 Standard")["quantity"]
    # Month 12 (days 335-365): quarantine objects kept 300 days instead of 30.
    per_day = 3_000 * bill(measured(tick()), design, Infra(folder)).month.open / 30.4375
    assert grown == pytest.approx(per_day * 270 / 2**30, rel=0.01)
    assert item(after, "S3 Standard storage")["month_1_usd"] == pytest.approx(
        item(before, "S3 Standard storage")["month_1_usd"], abs=1e-4
    )  # month 1 is younger than either expiry


@pytest.mark.domain
def test_only_objects_of_128_kb_or_more_move_to_standard_ia(tmp_path: Path) -> None:
    design = Design("session", 1024)
    small = bill(measured(tick(raw_bytes=100_000)), design, Infra()).as_dict(10)
    large = bill(measured(tick(raw_bytes=200_000)), design, Infra()).as_dict(10)
    assert item(small, "S3 Standard-IA")["quantity"] == 0
    assert item(small, "S3 lifecycle transitions")["quantity"] == 0
    assert item(large, "S3 Standard-IA")["quantity"] > 0
    assert item(large, "S3 lifecycle transitions")["quantity"] > 0
    # A variable's default is what the rule reads: raw_expiry_days in variables.tf.
    folder = copied_infra(tmp_path)
    variables = folder / "variables.tf"
    variables.write_text(variables.read_text().replace("default     = 400", "default     = 31"))
    shorter = bill(measured(tick(raw_bytes=200_000)), design, Infra(folder)).as_dict(10)
    assert item(shorter, "S3 Standard-IA")["quantity"] < item(large, "S3 Standard-IA")["quantity"]


@pytest.mark.domain
def test_the_alarm_line_counts_the_alarms_infra_declares(tmp_path: Path) -> None:
    design = Design("session", 1024)
    folder = copied_infra(tmp_path)
    declared = (folder / "alarms.tf").read_text().count('resource "aws_cloudwatch_metric_alarm"')
    shown = bill(measured(tick()), design, Infra(folder)).as_dict(10)
    assert item(shown, "CloudWatch alarm metrics")["quantity"] == declared
    alarms = folder / "alarms.tf"
    body = alarms.read_text().split('resource "aws_cloudwatch_metric_alarm" "tick_errors"')[1]
    body = body.split("\nresource ")[0].split("\n# ")[0]
    alarms.write_text(alarms.read_text() + '\nresource "aws_cloudwatch_metric_alarm" "more"' + body)
    shown = bill(measured(tick()), design, Infra(folder)).as_dict(10)
    assert item(shown, "CloudWatch alarm metrics")["quantity"] == declared + 1


@pytest.mark.domain
@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--symbols", "0"], "--symbols '0': must be a whole number from 1 to 10000"),
        (["--symbols", "many"], "--symbols 'many'"),
        (["--provider", "nope"], "--provider 'nope': must be one of"),
        (["--schedule", "weekly"], "--schedule 'weekly': must be one of session, 24x7"),
        (["--memory-mb", "128"], "--memory-mb '128': must be a whole number from 512 to 10240"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(flags: list[str], named: str, capsys) -> None:
    assert main(["cost", *flags]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and named in err


@pytest.mark.domain
def test_the_yahoo_stand_in_sends_bodies_of_realistic_size() -> None:
    close = datetime(2026, 11, 24, 20, 59, tzinfo=UTC)
    day = chart_body("AAPL", {"range": "1d", "interval": "1m"}, close)
    minute = int(close.timestamp())
    window = chart_body("AAPL", {"period1": str(minute - 60), "period2": str(minute + 60)}, close)
    assert 20_000 < len(day) < 60_000  # a session of 1-minute bars, as Yahoo sends it
    assert len(window) < 3_000
    assert len(json.loads(day)["chart"]["result"][0]["timestamp"]) == 390
    parsed = quotes.parse(day)
    assert parsed is not None and parsed["event_ts"] == close.isoformat()


@pytest.mark.graph
def test_cost_scales_the_per_symbol_items_and_not_the_per_tick_ones(capsys) -> None:
    shown = {}
    for symbols in (50, 500):
        assert main(["cost", "--symbols", str(symbols), "--json", "--compare"]) == 0
        shown[symbols] = json.loads(capsys.readouterr().out)
    few, many = shown[50], shown[500]
    for bill_ in (few, many, few["seed"], many["seed"]):
        assert set(bill_) >= KEYS and all(set(i) == ITEM_KEYS for i in bill_["items"])
        for month in ("month_1", "month_12"):
            total = sum(i[f"{month}_usd"] for i in bill_["items"])
            assert bill_["monthly_usd"][month] == pytest.approx(total, abs=1e-6)
    assert set(few) == KEYS | {"seed", "seed_over_ours"} and set(few["seed"]) == KEYS
    assert (few["symbols"], few["schedule"], few["seed"]["schedule"]) == (50, "session", "24x7")
    assert few["seed"]["ticks_per_month"] > 5 * few["ticks_per_month"]
    assert item(many, "DynamoDB write request units")["quantity"] == pytest.approx(
        10 * item(few, "DynamoDB write request units")["quantity"]
    )
    for name in PER_SYMBOL:
        assert item(many, name)["month_12_usd"] > 2 * item(few, name)["month_12_usd"]
    for name in PER_TICK:
        assert item(many, name)["quantity"] == item(few, name)["quantity"], name
    assert many["seed_over_ours"]["month_12"] == pytest.approx(
        many["seed"]["monthly_usd"]["month_12"] / many["monthly_usd"]["month_12"], abs=0.01
    )


@pytest.mark.domain
def test_a_provisioned_table_is_priced_by_the_unit_hours_it_declares(tmp_path: Path) -> None:
    folder = copied_infra(tmp_path)
    variables = folder / "variables.tf"
    text = variables.read_text()
    variables.write_text(text.replace('default     = "on_demand"', 'default     = "provisioned"'))
    shown = bill(measured(tick()), Design("session", 1024), Infra(folder)).as_dict(10)
    assert set(shown) == KEYS and set(shown["monthly_usd"]) == {"month_1", "month_12"}
    names = [i["item"] for i in shown["items"]]
    assert not any(name.startswith("DynamoDB write request units") for name in names)
    writes = item(shown, "DynamoDB write capacity")
    # 13 units through 6 h 40 min of each weekday, 1 the rest of the month.
    weekdays = 261 / 12
    hours = 13 * weekdays * (6 + 2 / 3) + (730 - weekdays * (6 + 2 / 3))
    assert writes["quantity"] == pytest.approx(hours, rel=1e-3)


@pytest.mark.system
def test_a_yahoo_tick_is_measured_against_the_offline_stand_in() -> None:
    from marketdata_assets.cost.measure import measure

    measured_ = measure(5, "yahoo", 1)
    assert measured_.open.write_units == 5  # every symbol's quote reached the table
    assert measured_.open.raw_plain_bytes > 5 * 500  # each symbol's chart body landed raw
    assert measured_.closed.write_units == 0


@pytest.mark.domain
@settings(max_examples=60, deadline=None)
@given(
    expiry=st.one_of(st.none(), st.integers(1, 800)),
    transition_days=st.integers(0, 400),
    size=st.floats(1_000, 1_000_000),
    number=st.integers(1, 24),
)
def test_a_transition_moves_bytes_between_classes_and_expiry_bounds_them(
    expiry: int | None, transition_days: int, size: float, number: int
) -> None:
    """Whatever the rule, a month holds the bytes of the days not yet expired, split between
    the classes (a transition never adds or loses a byte), and only objects of 128 KB or more
    reach Standard-IA."""
    rule = lifecycle.Rule("r", "raw/", transition_days, "STANDARD_IA", expiry, None)
    daily, objects = {"raw/": size * 10}, {"raw/": 10.0}
    moved = lifecycle.month(daily, {"raw/": size}, objects, 0.0, [rule], number)
    kept = lifecycle.month(
        daily, {"raw/": size}, objects, 0.0, [replace(rule, transition_days=None)], number
    )
    assert sum(moved.gib_months.values()) == pytest.approx(kept.gib_months["STANDARD"])
    first = round((number - 1) * lifecycle.DAYS_PER_MONTH)
    last = round(number * lifecycle.DAYS_PER_MONTH)
    days = [min(day + 1, expiry or day + 1) for day in range(first, last)]
    assert kept.gib_months["STANDARD"] == pytest.approx(size * 10 * sum(days) / len(days) / 2**30)
    if size < lifecycle.MIN_TRANSITION_BYTES:
        assert moved.gib_months.get("STANDARD_IA", 0.0) == 0 and moved.transitions == 0
