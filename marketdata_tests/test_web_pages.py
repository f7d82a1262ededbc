"""The dashboard's pages in Chromium, over a real server on the prepared data (`web_data`).

Every test asserts that its page reported no console error, failed request or dialog, and saves
a screenshot under its pytest temp dir.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from marketdata_assets.latest import LatestPrice
from marketdata_assets.settings import StorageSettings
from marketdata_assets.stores import latest_store
from marketdata_assets.web.app import create_app
from marketdata_tests.browser import PageWatch
from marketdata_tests.screenshots import (
    CLOSE,
    DOWN,
    UP,
    VWAP,
    open_latest,
    open_quality,
    open_symbol,
    open_ticks,
    series_pixels,
    take,
)
from marketdata_tests.web_data import serve

pytestmark = pytest.mark.system


SHARE = (194, 65, 12)  # latest.js: a tick's quarantine share bar
# The chart library's licence asks for its notice and a link on every page that uses it.
ATTRIBUTION = "footer a[href='https://www.tradingview.com/']"


@pytest.fixture(scope="module")
def site(web_data_dir: Path) -> Iterator[str]:
    # The dashboard's clock: a minute after the last prepared tick, in the session.
    now = datetime(2026, 11, 25, 14, 34, 20, tzinfo=UTC)
    with serve(create_app(StorageSettings(data_dir=web_data_dir), clock=lambda: now)) as base:
        yield base


@pytest.fixture(scope="module")
def empty_site(empty_data_dir: Path) -> Iterator[str]:
    sunday = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # the dashboard's clock: a closed market
    with serve(create_app(StorageSettings(data_dir=empty_data_dir), clock=lambda: sunday)) as base:
        yield base


def et(tick: datetime) -> str:
    return tick.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M ET")


def finish(watch: PageWatch, shot: Path, close: bool = True) -> None:
    """Save the page's screenshot, then fail on anything the page reported."""
    watch.page.screenshot(path=shot)
    assert watch.faults == []
    if close:
        watch.page.close()


def texts(watch: PageWatch, selector: str) -> list[str]:
    return [text.strip() for text in watch.page.locator(selector).all_text_contents()]


def test_latest_page_shows_a_row_per_symbol_and_flags_stale_prices_in_words(
    browser: Any, site: str, web_prepared: dict[str, Any], tmp_path: Path
) -> None:
    watch = open_latest(browser, site)
    rows = watch.answer("/api/latest")
    newest = max(row["tick"] for row in rows)
    stale = sorted(row["symbol"] for row in rows if row["tick"] < newest)
    assert 0 < len(stale) < len(rows)  # the prepared ticks leave both kinds
    body = "#latest-table tbody"
    assert sorted(texts(watch, f"{body} tr td:first-child")) == sorted(web_prepared["symbols"])
    assert sorted(texts(watch, f"{body} tr.stale td:first-child")) == stale
    assert set(texts(watch, f"{body} tr.stale td:last-child")) == {"stale"}
    # Hovering a change names the session it is measured against.
    hints = watch.page.locator(f"{body} tr td:nth-child(4)").evaluate_all(
        "cells => cells.map(cell => cell.title)"
    )
    by_symbol = {row["symbol"]: row for row in rows}
    shown_symbols = texts(watch, f"{body} tr td:first-child")
    assert hints == [
        f"against the close of {by_symbol[symbol]['change_basis']}" for symbol in shown_symbols
    ]
    # The others say whether the market trades now (the API's word, on the server's clock).
    fresh = {row["status"] for row in rows if not row["stale"]}
    market = watch.answer("/api/market")
    assert fresh == {"current" if market["open"] else "closed"}
    assert set(texts(watch, f"{body} tr:not(.stale) td:last-child")) == fresh
    watch.page.wait_for_function("document.getElementById('market').textContent !== ''")
    shown = watch.page.locator("#market").inner_text()
    if market["open"]:
        closes = datetime.fromisoformat(market["closes_at"].replace("Z", "+00:00"))
        assert (
            shown
            == f"Market open · closes {closes.astimezone(ZoneInfo('America/New_York')):%H:%M} ET"
        )
    else:
        last = datetime.fromisoformat(market["last_close"].replace("Z", "+00:00"))
        assert (
            shown
            == f"Market closed · as of {last.astimezone(ZoneInfo('America/New_York')):%a %H:%M} ET"
        )
    last_tick = watch.page.locator("#last-tick").inner_text()
    assert et(web_prepared["hostile_tick"]) in last_tick
    assert series_pixels(watch, "#share-chart", [SHARE])[0] > 100
    assert watch.page.locator(ATTRIBUTION).is_visible()
    finish(watch, tmp_path / "latest.png")


def test_latest_page_sorts_by_the_clicked_column_and_refreshes_every_minute(
    browser: Any, site: str
) -> None:
    watch = open_latest(browser, site)
    watch.page.clock.install()  # the page's timers run on a clock the test moves
    watch.page.reload()
    watch.page.wait_for_selector("#latest-table tbody tr")
    price = watch.page.locator("th[data-key=price] button")
    cells = "#latest-table tbody tr td:nth-child(2)"
    price.click()
    ascending = [float(text) for text in texts(watch, cells)]
    price.click()
    descending = [float(text) for text in texts(watch, cells)]
    assert ascending == sorted(ascending) and len(set(ascending)) > 1
    assert descending == sorted(ascending, reverse=True)
    assert watch.page.locator("th[aria-sort=descending]").inner_text().startswith("Price")

    stamp = watch.page.locator("#refreshed").inner_text()
    with watch.page.expect_response(lambda r: "/api/latest" in r.url):
        watch.page.clock.run_for(60_000)
    watch.page.wait_for_function(
        "stamp => document.getElementById('refreshed').textContent !== stamp", arg=stamp
    )
    assert [float(text) for text in texts(watch, cells)] == descending  # the sort survives
    assert watch.faults == []


def test_symbol_page_draws_price_vwap_and_candles_and_words_the_forecast_honestly(
    browser: Any, site: str, tmp_path: Path
) -> None:
    watch = open_symbol(browser, site, "AAPL")
    # The quote leads, with the latest page's price (the front page and the symbol page agree).
    latest = {row["symbol"]: row for row in watch.page.request.get(f"{site}/api/latest").json()}
    quote = watch.answer("/api/quote/AAPL")
    assert texts(watch, "#quote .quote-price") == [f"{latest['AAPL']['price']:.2f}"]
    assert quote["price"] == latest["AAPL"]["price"] and quote["session"] == "2026-11-25"
    seen = datetime.fromisoformat(quote["event_ts"]).astimezone(ZoneInfo("America/New_York"))
    as_of = f"as of {seen:%Y-%m-%d %H:%M:%S} ET (session 2026-11-25)"
    assert texts(watch, "#quote .quote-as-of") == [as_of]
    # The intraday chart is of the quote's session: no note; the forecast names its origin.
    assert watch.page.locator("#intraday-note").is_hidden()
    assert watch.page.locator("#session-note").inner_text().startswith("session 2026-11-25:")
    origin = "origin 2026-11-25 16:00 ET, from the session 2026-11-25"
    assert texts(watch, "#forecast .forecast-origin") == [
        f"{origin} (newest session held: 2026-11-25)"
    ]
    assert watch.page.locator("#forecast .warning").count() == 0
    close, vwap = series_pixels(watch, "#intraday-chart", [CLOSE, VWAP])
    up, down = series_pixels(watch, "#daily-chart", [UP, DOWN])
    assert close > 500 and vwap > 500, (close, vwap)
    assert up > 500 and down > 500, (up, down)
    assert watch.page.locator(ATTRIBUTION).is_visible()
    analytics = watch.answer("/api/analytics/AAPL")
    assert len(analytics) > 1
    sessions = texts(watch, "#analytics-table tbody tr td:first-child")
    assert sessions == [row["session"] for row in reversed(analytics)]
    forecast = watch.answer("/api/forecast/AAPL?horizon=5m")
    assert texts(watch, "#forecast .verdict") == [forecast["verdict"]]
    models = texts(watch, "#forecast tbody tr td:first-child")
    assert models == [row["model"] for row in forecast["skill"]]
    assert texts(watch, "#forecast tr.served td:first-child") == [forecast["served_model"]]
    finish(watch, tmp_path / "symbol.png", close=False)

    # Another horizon: the page asks for it and words its own verdict.
    with watch.page.expect_response(lambda r: "/api/forecast/AAPL?horizon=1d" in r.url) as asked:
        watch.page.get_by_role("button", name="1 day").click()
    verdict = asked.value.json()["verdict"]
    assert verdict != forecast["verdict"]
    watch.page.wait_for_selector(f"#forecast .verdict >> text={verdict}")
    # A shorter daily range keeps the candles drawn.
    month = watch.page.get_by_role("button", name="1M")
    month.click()
    assert month.get_attribute("aria-pressed") == "true"
    assert watch.page.get_by_role("button", name="All").get_attribute("aria-pressed") == "false"
    assert min(series_pixels(watch, "#daily-chart", [UP, DOWN])) > 500
    finish(watch, tmp_path / "symbol_1d_1m.png")


def test_a_quote_of_a_session_not_held_says_which_session_the_charts_and_forecast_show(
    browser: Any, web_data_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(web_data_dir, data_dir)
    later = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # the history ends on 2026-11-25
    storage = StorageSettings(data_dir=data_dir)
    latest_store(storage).upsert([LatestPrice("AAPL", 250.0, "USD", later, later)])
    with serve(create_app(storage, clock=lambda: later)) as base:
        watch = open_symbol(browser, base, "AAPL")
        note = watch.page.locator("#intraday-note")
        assert note.is_visible() and note.inner_text() == (
            "showing 2026-11-25, the newest session held (the quote is of 2026-12-04)"
        )
        assert texts(watch, "#forecast .warning") == [
            "this forecast is of 2026-11-25, older than the quote's session (2026-12-04)"
        ]
        assert texts(watch, "#quote .quote-change") == ["\u2013"]  # Thursday's close is not held
        finish(watch, tmp_path / "symbol_later.png")


def test_quality_page_lists_the_reasons_of_a_tick_with_faults_and_filters_by_reason(
    browser: Any, site: str, web_prepared: dict[str, Any], tmp_path: Path
) -> None:
    tick = web_prepared["faulty_tick"].strftime("%Y-%m-%dT%H:%MZ")
    faulty = next(s for s in web_prepared["summaries"] if s["tick"] == tick)
    assert faulty["quarantined"] > 0 and len(faulty["reasons"]) > 1

    watch = open_quality(browser, site, f"?tick={tick}")
    chips = texts(watch, "#reasons button")
    assert sorted(chips) == sorted(f"{code}: {n}" for code, n in faulty["reasons"].items())
    assert len(texts(watch, "#rows article.record")) == faulty["quarantined"]
    finish(watch, tmp_path / "quality_tick.png")

    watch = open_quality(browser, site, f"?tick={tick}")
    code, count = sorted(faulty["reasons"].items())[0]
    watch.page.select_option("#reason-filter", code)
    watch.page.wait_for_selector(f"#reasons button[data-reason={code}][aria-pressed=true]")
    assert len(texts(watch, "#rows article.record")) == count
    for record in watch.page.locator("#rows article.record").all():
        assert code in record.locator(".reason").all_text_contents()
    assert parse_qs(urlsplit(watch.page.url).query) == {"tick": [tick], "reason": [code]}
    assert watch.faults == []


def test_quality_page_shows_a_hostile_raw_line_as_text(
    browser: Any, site: str, web_prepared: dict[str, Any], tmp_path: Path
) -> None:
    tick = web_prepared["hostile_tick"].strftime("%Y-%m-%dT%H:%MZ")
    hostile = web_prepared["hostile"]
    watch = open_quality(browser, site, f"?tick={tick}")
    records = watch.answer(f"/api/quarantine?tick={tick.replace(':', '%3A')}")
    raw_lines = texts(watch, "#rows pre.raw")
    assert hostile in raw_lines  # the line that is markup and not JSON, verbatim
    assert any(hostile in line and line != hostile for line in raw_lines)  # inside a record
    assert watch.page.locator("pre.raw", has_text=hostile).first.is_visible()
    assert watch.page.evaluate("document.images.length") == 0
    assert texts(watch, "#rows .replay code") == [record["replay"] for record in records]
    # The history's quarantined bars: the file row of markup, as text, in its own section.
    watch.page.wait_for_selector("#history-rows article.record")
    assert texts(watch, "#history-rows pre.raw") == [web_prepared["hostile_bar"]]
    assert texts(watch, "#history-rows .reason") == ["price_invalid"]
    assert watch.page.locator("#history-rows pre.raw").first.is_visible()
    # The actions the actions gate refused, the one whose kind is markup among them, as text.
    watch.page.wait_for_selector("#action-rows article.record")
    refused = watch.answer("/api/quarantine/actions")
    assert texts(watch, "#action-rows pre.raw") == [row["raw"] for row in refused]
    assert web_prepared["hostile_action"] in texts(watch, "#action-rows pre.raw")
    assert texts(watch, "#action-rows .reason") == ["ratio_invalid", "duplicate", "kind_unknown"]
    assert texts(watch, "#actions-note") == ["3 actions in 1 session (newest first)"]
    assert watch.page.evaluate("document.images.length") == 0
    finish(watch, tmp_path / "quality_hostile.png")
    assert watch.dialogs == []


def test_ticks_page_lists_the_recent_ticks_and_their_outcomes(
    browser: Any, site: str, web_prepared: dict[str, Any], tmp_path: Path
) -> None:
    watch = open_ticks(browser, site)
    ticks = watch.answer("/api/ticks")
    assert len(ticks) == len(web_prepared["ticks"])
    rows = "#ticks tbody tr"
    assert texts(watch, f"{rows} td:nth-child(2)") == [t["tick"] for t in ticks]
    assert texts(watch, f"{rows} td:nth-child(1)") == [
        et(t) for t in sorted(web_prepared["ticks"], reverse=True)
    ]
    assert texts(watch, f"{rows} td:nth-child(3)") == [t["outcome"] for t in ticks]
    assert texts(watch, f"{rows} td:nth-child(6)") == [str(t["quarantined"]) for t in ticks]
    finish(watch, tmp_path / "ticks.png")


def test_every_page_on_an_empty_data_dir_says_what_to_run(
    browser: Any, empty_site: str, tmp_path: Path
) -> None:
    watch = open_latest(browser, empty_site)
    assert texts(watch, "#latest p.empty") == ["no ticks yet: run marketdata tick"]
    # Friday 2026-11-27 closed early, at 13:00 New York; the next open is Monday's.
    watch.page.wait_for_function("document.getElementById('market').textContent !== ''")
    assert watch.page.locator("#market").inner_text() == "Market closed · as of Fri 13:00 ET"
    assert watch.page.locator("#market").get_attribute("title") == "next open Mon 09:30 ET"
    assert texts(watch, "#last-tick p.empty") == ["no ticks yet: run marketdata tick"]
    finish(watch, tmp_path / "latest.png")

    watch = open_symbol(browser, empty_site, "AAPL")
    said = {}
    for holder in ("#intraday-chart", "#daily-chart", "#analytics", "#forecast"):
        sentence = texts(watch, f"{holder} p.empty")
        assert len(sentence) == 1 and "run marketdata backfill --from" in sentence[0], holder
        said[holder] = sentence[0]
    # One range for the page, the forecast's panel included: GET /api/backfill's command.
    command = watch.answer("/api/backfill?symbol=AAPL")["command"]
    assert set(said.values()) == {f"no history for AAPL yet: run {command}"}
    assert watch.page.locator("canvas").count() == 0
    finish(watch, tmp_path / "symbol.png")

    watch = open_quality(browser, empty_site)
    assert texts(watch, "#rows p.empty") == ["no ticks yet: run marketdata tick"]
    watch.page.wait_for_selector("#history-rows p.empty")
    [history] = texts(watch, "#history-rows p.empty")
    assert history.startswith("no history bars quarantined: no session of history is held yet")
    assert "run marketdata backfill --from " in history
    finish(watch, tmp_path / "quality.png")

    watch = open_ticks(browser, empty_site)
    assert texts(watch, "#ticks p.empty") == ["no ticks yet: run marketdata tick"]
    finish(watch, tmp_path / "ticks.png")


def test_screenshots_are_written_for_the_four_pages(
    browser: Any, site: str, tmp_path: Path
) -> None:
    shots = take(browser, site, tmp_path)
    assert sorted(shots) == ["latest", "quality", "symbol", "ticks"]
    for path in shots.values():
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", header[16:24]) == (1280, 900)
