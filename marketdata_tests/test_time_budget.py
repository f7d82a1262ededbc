"""The time budgets: one source (time_budget.json), consistent, and every constant derived."""

import json
import re
from pathlib import Path

import pytest

from marketdata_assets.errors import ConfigError
from marketdata_assets.gate.expectations import suite_definition
from marketdata_assets.operations import time_budget
from marketdata_assets.operations.time_budget import (
    FETCH_DEADLINE_S,
    FUTURE_WINDOW_S,
    LAMBDA_TIMEOUT_S,
    MARGIN_S,
    REST_OF_TICK_S,
    TICK_INTERVAL_S,
    lambda_fetch_deadline_s,
)
from marketdata_assets.providers.fetching import FetchPolicy
from marketdata_assets.settings import Settings

INFRA = Path(__file__).resolve().parents[1] / "infra"


@pytest.mark.domain
def test_the_budgets_fit_inside_each_other() -> None:
    """The fetch, the rest of the tick and the margin fit in the Lambda's timeout, which ends
    before the next tick; the fetch has room for at least one full request."""
    assert FETCH_DEADLINE_S + REST_OF_TICK_S + MARGIN_S <= LAMBDA_TIMEOUT_S < TICK_INTERVAL_S
    assert FetchPolicy().request_timeout_s <= FETCH_DEADLINE_S
    # A tick and a price may lead the clock by one interval: no more, or a made-up future
    # minute would pass; no less, or a clock a little ahead would refuse the current tick.
    assert FUTURE_WINDOW_S == TICK_INTERVAL_S


@pytest.mark.domain
def test_every_constant_is_derived_from_the_file() -> None:
    on_disk = json.loads(time_budget.SOURCE.read_text())
    primary = (TICK_INTERVAL_S, LAMBDA_TIMEOUT_S, REST_OF_TICK_S, MARGIN_S)
    assert primary == tuple(on_disk[key] for key in time_budget.KEYS)
    derived = on_disk["lambda_timeout_s"] - on_disk["rest_of_tick_s"] - on_disk["margin_s"]
    assert derived == FETCH_DEADLINE_S
    assert FetchPolicy().deadline_s == FETCH_DEADLINE_S
    assert Settings().fetch_deadline_s == FETCH_DEADLINE_S
    future_rule = next(
        e for e in suite_definition()["expectations"]
        if e["meta"]["rule"] == "event_ts_not_after_tick"
    )  # fmt: skip
    assert future_rule["kwargs"]["max_value"] == FUTURE_WINDOW_S


@pytest.mark.domain
def test_terraform_takes_the_lambda_timeout_from_the_file() -> None:
    """infra decodes this very file and sets the function's timeout from it (the terraform
    test plans it; this proves no second constant exists)."""
    lambda_tf = (INFRA / "lambda.tf").read_text()
    decoded = re.search(r"(\w+)\s*=\s*jsondecode\(file\(\"([^\"]+)\"\)\)", lambda_tf)
    assert decoded is not None
    assert decoded[2] == "${path.module}/../marketdata_assets/operations/time_budget.json"
    assert (INFRA / decoded[2].replace("${path.module}/", "")).resolve() == time_budget.SOURCE
    function = lambda_tf[lambda_tf.index('resource "aws_lambda_function"') :]
    timeout = re.search(r"\n\s*timeout\s*=\s*(\S+)", function)
    assert timeout is not None and timeout[1] == f"local.{decoded[1]}.lambda_timeout_s"
    every_tf = "".join(path.read_text() for path in INFRA.glob("*.tf"))
    assert not re.search(r"timeout\s*=\s*\d", every_tf)


@pytest.mark.domain
@pytest.mark.parametrize(
    ("remaining_ms", "expected"),
    [
        (LAMBDA_TIMEOUT_S * 1000, FETCH_DEADLINE_S),  # a whole invocation: the static deadline
        (10_000_000, FETCH_DEADLINE_S),  # never more than the static deadline
        ((REST_OF_TICK_S + MARGIN_S + 5) * 1000, 5.0),  # a late start: what is left
        ((REST_OF_TICK_S + MARGIN_S + 2.5) * 1000, 2.5),
        ((REST_OF_TICK_S + MARGIN_S) * 1000, 0.0),  # nothing left to fetch in
        (1_000, 0.0),  # never negative
    ],
)
def test_inside_the_lambda_the_fetch_gets_what_the_invocation_has_left(
    remaining_ms: float, expected: float
) -> None:
    assert lambda_fetch_deadline_s(int(remaining_ms)) == pytest.approx(expected)


@pytest.mark.domain
def test_a_lower_configured_deadline_caps_the_lambdas() -> None:
    assert lambda_fetch_deadline_s(LAMBDA_TIMEOUT_S * 1000, cap_s=3.0) == 3.0


@pytest.mark.domain
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"margin_s": "4"}, r"^time_budget.json margin_s='4': must be a whole number"),
        ({"tick_interval_s": 0}, r"^time_budget.json tick_interval_s=0: must be a whole"),
        ({"lambda_timeout_s": 60}, r"lambda_timeout_s=60: must be under tick_interval_s=60"),
        ({"rest_of_tick_s": 46}, r"rest_of_tick_s \+ margin_s = 50: must be under lambda_t"),
    ],
)
def test_an_inconsistent_budget_file_is_one_line_naming_the_key(
    change: dict[str, object], message: str
) -> None:
    budget = json.loads(time_budget.SOURCE.read_text()) | change
    with pytest.raises(ConfigError, match=message):
        time_budget.load(json.dumps(budget))


@pytest.mark.graph
def test_the_configured_deadline_reaches_the_http_providers_fetch_policy() -> None:
    from marketdata_assets.definitions import configured_provider
    from marketdata_assets.providers.yahoo.quotes import YahooProvider

    env = {"MARKETDATA_PROVIDER": "yahoo", "MARKETDATA_FETCH_DEADLINE_S": "12.5"}
    built = configured_provider(Settings.from_env(env))
    assert isinstance(built, YahooProvider) and built.policy.deadline_s == 12.5
    assert built.policy.request_timeout_s == FetchPolicy().request_timeout_s  # the rest kept


@pytest.mark.domain
@pytest.mark.parametrize("value", ["31", "-1", "nan", "soon"])
def test_a_fetch_deadline_outside_the_budget_is_one_line(value: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"MARKETDATA_FETCH_DEADLINE_S": value})
    assert str(error.value) == (
        f"MARKETDATA_FETCH_DEADLINE_S={value!r}: must be a number of seconds from 0 to "
        f"{FETCH_DEADLINE_S:g}"
    )
