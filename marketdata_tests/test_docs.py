"""The docs stay true to the code: generated reference pages are current, the README short."""

from __future__ import annotations

import pytest

from marketdata_tests import docs_reference
from marketdata_tests.docs_reference import COMMAND, PAGES, REFERENCE, ROOT

README_LINES = 200
# The CLI page runs `marketdata --help` in subprocesses (a system test); the others are domain.
TIERED_PAGES = [
    pytest.param(page, marks=pytest.mark.system if page == "cli.md" else pytest.mark.domain)
    for page in sorted(PAGES)
]


@pytest.mark.parametrize("page", TIERED_PAGES)
def test_reference_page_is_what_the_code_generates(page: str) -> None:
    path = REFERENCE / page
    held = path.read_text() if path.exists() else ""
    assert held == PAGES[page](), f"docs/reference/{page} is stale: run `.venv/bin/{COMMAND}`"


@pytest.mark.domain
def test_every_reason_code_has_its_meaning() -> None:
    from marketdata_assets.gate.routing import REASONS
    from marketdata_assets.history.actions_gate import ACTION_REASONS
    from marketdata_assets.history.gate import BAR_REASONS

    assert set(docs_reference.TICK_REASONS) == set(REASONS)
    assert set(docs_reference.BAR_REASONS) == set(BAR_REASONS)
    assert set(docs_reference.ACTION_REASONS) == set(ACTION_REASONS)


@pytest.mark.domain
def test_readme_stays_a_front_page() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_LINES, (
        f"README.md has {len(lines)} lines (at most {README_LINES}): move detail into docs/"
    )


@pytest.mark.domain
def test_the_reliability_page_names_only_tests_that_exist() -> None:
    import re

    page = (ROOT / "docs" / "reliability.md").read_text()
    named = set(re.findall(r"`(test_\w+\.py)`", page))
    assert len(named) >= 15
    assert sorted(n for n in named if not (ROOT / "marketdata_tests" / n).is_file()) == []
