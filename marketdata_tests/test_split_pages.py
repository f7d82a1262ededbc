"""The dashboard in Chromium on a split's ex-date (issue 24, item 5): the change is against the
split-adjusted previous close, and hovering it says so (the latest page and the symbol page's
quote block), over a real server on a lake holding the session before's close and the split."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from marketdata_assets.lake import day_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.latest import LatestPrice
from marketdata_assets.settings import StorageSettings
from marketdata_assets.stores import lake_store, latest_store
from marketdata_assets.web.app import create_app
from marketdata_tests.screenshots import open_latest, open_symbol
from marketdata_tests.test_change_basis import daily
from marketdata_tests.test_split_ticks import BEFORE, EX_DATE, OPENED, actions_of
from marketdata_tests.web_data import serve

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    storage = StorageSettings(data_dir=tmp_path_factory.mktemp("split") / "data")
    lake = lake_store(storage)
    closes = daily(BEFORE, {"AAPL": 250.36, "MSFT": 378.0})
    lake.put(day_key("daily_bars", BEFORE), encode("daily_bars", closes))
    actions = actions_of([("AAPL", "split", 4.0)])
    lake.put(day_key("corporate_actions", EX_DATE), encode("corporate_actions", actions))
    latest_store(storage).upsert(
        [
            LatestPrice("AAPL", 62.49, "USD", OPENED, OPENED),
            LatestPrice("MSFT", 380.0, "USD", OPENED, OPENED),
        ]
    )
    now = OPENED + timedelta(minutes=1, seconds=20)
    with serve(create_app(storage, clock=lambda: now)) as base:
        yield base


def test_the_change_on_a_split_ex_date_is_against_the_adjusted_close_and_says_so(
    browser: Any, site: str, tmp_path: Path
) -> None:
    watch = open_latest(browser, site)
    body = "#latest-table tbody"
    symbols = watch.page.locator(f"{body} tr td:first-child").all_text_contents()
    hints = watch.page.locator(f"{body} tr td:nth-child(4)").evaluate_all(
        "cells => cells.map(cell => cell.title)"
    )
    by_symbol = dict(zip((s.strip() for s in symbols), hints, strict=True))
    assert by_symbol == {
        "AAPL": "against the close of 2026-12-01, split-adjusted (÷ 4, this session's split)",
        "MSFT": "against the close of 2026-12-01",
    }
    changes = watch.page.locator(f"{body} tr td:nth-child(4)").all_text_contents()
    shown = dict(zip((s.strip() for s in symbols), (c.strip() for c in changes), strict=True))
    assert shown["AAPL"] == "-0.10"  # 62.49 - 250.36 / 4, not -187.87
    watch.page.screenshot(path=tmp_path / "latest.png")
    assert watch.faults == []
    watch.page.close()

    quote = open_symbol(browser, site, "AAPL")
    title = quote.page.locator("#quote .quote-change").get_attribute("title")
    assert title == "against the close of 2026-12-01, 62.59 (split-adjusted: 250.36 ÷ 4)"
    quote.page.screenshot(path=tmp_path / "symbol.png")
    assert quote.faults == []
    quote.page.close()
