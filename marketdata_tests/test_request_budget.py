"""The request budget's contract, on both stores: a local file and a DynamoDB table (moto)."""

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.operations.request_budget import (
    BudgetError,
    DynamoRequestBudget,
    FileRequestBudget,
    RequestBudget,
)
from marketdata_tests.conftest import create_budget_table

pytestmark = pytest.mark.domain

DAY = date(2026, 11, 25)
_names = itertools.count()


@pytest.fixture(params=["file", "dynamodb"])
def make_budget(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[int], RequestBudget]]:
    """A factory of fresh, empty budgets with a given daily limit."""
    if request.param == "file":
        folder = tmp_path_factory.mktemp("budget")
        yield lambda limit: FileRequestBudget(folder / f"{next(_names)}.json", "av", limit)
        return
    request.getfixturevalue("aws_credentials")
    import boto3
    from moto import mock_aws

    with mock_aws():
        create_budget_table("budget")
        client = boto3.client("dynamodb")
        yield lambda limit: DynamoRequestBudget(client, "budget", f"av{next(_names)}", limit)


def test_takes_are_all_or_nothing_and_days_are_separate(make_budget) -> None:
    budget = make_budget(5)
    assert budget.take(3, DAY) and budget.used(DAY) == 3
    assert not budget.take(3, DAY) and budget.used(DAY) == 3  # nothing taken
    assert budget.take(2, DAY) and not budget.take(1, DAY)
    assert budget.used(DAY) == 5
    assert budget.used(date(2026, 11, 26)) == 0 and budget.take(5, date(2026, 11, 26))
    assert not make_budget(5).take(6, DAY)


def test_exhaust_spends_the_day_and_never_lowers_the_count(make_budget) -> None:
    budget = make_budget(5)
    budget.take(1, DAY)
    budget.exhaust(DAY)
    assert budget.used(DAY) == 5 and not budget.take(1, DAY)
    budget.exhaust(DAY)
    assert budget.used(DAY) == 5


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=st.integers(1, 30), takes=st.lists(st.integers(1, 10), max_size=12))
def test_a_take_is_granted_exactly_when_it_fits(make_budget, limit: int, takes: list[int]) -> None:
    """Model test: granted iff used + count <= limit; what was granted is what is counted."""
    budget, used = make_budget(limit), 0
    for count in takes:
        fits = used + count <= limit
        assert budget.take(count, DAY) == fits
        used += count if fits else 0
    assert budget.used(DAY) == used <= limit


def test_concurrent_takes_never_overrun_the_limit(tmp_path: Path) -> None:
    """On the file store only: moto's in-process DynamoDB does not apply conditional updates
    atomically across threads (it granted 26-30 of 25); DynamoDB itself does, and the model
    test above covers the condition."""
    budget = FileRequestBudget(tmp_path / "budget.json", "av", 25)
    with ThreadPoolExecutor(max_workers=8) as pool:
        granted = list(pool.map(lambda _: budget.take(1, DAY), range(60)))
    assert sum(granted) == 25 == budget.used(DAY)


def test_a_corrupt_budget_file_is_an_error_not_a_fresh_day(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    path.write_text("[1, 2")
    with pytest.raises(BudgetError, match=r"budget\.json'?: not a JSON object"):
        FileRequestBudget(path, "av", 25).take(1, DAY)
    assert path.read_text() == "[1, 2"


def test_a_missing_budget_table_names_the_table(aws_credentials) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        budget = DynamoRequestBudget(boto3.client("dynamodb"), "nope", "av", 25)
        with pytest.raises(BudgetError, match="table 'nope': UpdateItem failed: ResourceNotFound"):
            budget.take(1, DAY)
