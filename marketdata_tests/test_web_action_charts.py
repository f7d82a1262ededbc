"""The symbol page's corporate actions in Chromium, over a real server on the stub's week of
splits and dividends (`web_data.ACTIONS_WEEK`): the daily candles split-adjusted by default, the
basis buttons re-reading them (kept in the address, ?adjust=), and each split and dividend a
marker of the chart library's own (`createSeriesMarkers`) with its value, read from the
library's state (`drawn` in web/static/chart.js), from the legend and from the pixels."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app
from marketdata_tests.screenshots import Watched, open_symbol, series_pixels
from marketdata_tests.web_data import serve

pytestmark = pytest.mark.system

SPLIT_COLOUR, DIVIDEND_COLOUR = (29, 78, 216), (161, 98, 7)  # daily.js
SPLIT = "2026-12-02"  # AAPL's 4:1 (stub/actions.py)

# The daily chart's candles, markers and basis, as the library holds them.
_DAILY_JS = """async () => {
  const { drawn } = await import("/static/chart.js");
  const shown = drawn.daily;
  const x = {};
  for (const time of shown.slots) x[time] = shown.chart.timeScale().timeToCoordinate(time);
  return { candles: shown.candles.data(), markers: shown.markers.markers(), basis: shown.basis,
           x };
}"""


@pytest.fixture(scope="module")
def site(actions_week_dir: Path) -> Iterator[str]:
    with serve(create_app(StorageSettings(data_dir=actions_week_dir))) as base:
        yield base


def daily(watch: Watched) -> dict[str, Any]:
    shown: dict[str, Any] = watch.page.evaluate(_DAILY_JS)
    return shown


def candles_of(bars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candles the page should draw from the API's daily bars."""
    return [
        {"time": bar["start"][:10], **{k: bar[k] for k in ("open", "high", "low", "close")}}
        for bar in bars
    ]


def daily_bars(watch: Watched, basis: str) -> list[dict[str, Any]]:
    """The page's last daily bars on `basis`, as the API answered them."""
    found = [
        r for r in watch.answers if "/api/bars/" in r.url and "interval=1d" in r.url
        and f"adjust={basis}" in r.url
    ]  # fmt: skip
    assert found, [r.url for r in watch.answers]
    bars: list[dict[str, Any]] = found[-1].json()
    return bars


def pressed(watch: Watched) -> list[str]:
    return watch.page.locator("#bases button[aria-pressed=true]").all_text_contents()


def legend_over(watch: Watched, x: float) -> str:
    watch.page.locator("#daily-chart").scroll_into_view_if_needed()
    box = watch.page.locator("#daily-chart").bounding_box()
    assert box is not None
    watch.page.mouse.move(box["x"] + x, box["y"] + 60)
    return watch.page.locator("#daily-ohlcv").inner_text()


def test_splits_and_dividends_are_markers_with_their_values(browser: Any, site: str) -> None:
    expected = {"AAPL": ["4:1 split"], "NVDA": ["3:2 split"]}
    for symbol in ("AAPL", "NVDA", "MSFT", "KO"):
        watch = open_symbol(browser, site, symbol)
        [action] = watch.answer(f"/api/actions/{symbol}")
        if action["kind"] == "dividend":  # the cash per share in cents: two decimals
            expected[symbol] = [f"div {action['value']:.2f} {action['currency']}"]
        shown = daily(watch)
        assert [m["text"] for m in shown["markers"]] == expected[symbol], symbol
        assert [m["time"] for m in shown["markers"]] == [action["ex_date"]], symbol
        colour = SPLIT_COLOUR if action["kind"] == "split" else DIVIDEND_COLOUR
        assert series_pixels(watch, "#daily-chart", [colour])[0] > 20, symbol
        # Over the ex-date's candle the legend names the action too.
        said = legend_over(watch, shown["x"][action["ex_date"]])
        assert said.startswith(f"{action['ex_date']} · O ") and said.endswith(
            f" · {expected[symbol][0]}"
        ), said
        assert watch.faults == [], symbol
        watch.page.close()
    assert expected["MSFT"][0].startswith("div 0.") and expected["MSFT"][0].endswith(" USD")


def test_the_candles_are_split_adjusted_by_default_and_as_traded_on_asking(
    browser: Any, site: str
) -> None:
    watch = open_symbol(browser, site, "AAPL")
    splits = daily_bars(watch, "splits")
    shown = daily(watch)
    assert shown["basis"] == "splits" and pressed(watch) == ["Splits"]
    assert shown["candles"] == candles_of(splits)
    assert urlsplit(watch.page.url).query == ""  # the default: nothing in the address
    with watch.page.expect_response(lambda r: "interval=1d" in r.url and "adjust=none" in r.url):
        watch.page.get_by_role("button", name="As traded").click()
    watch.page.wait_for_selector("body[data-basis=none]")
    assert parse_qs(urlsplit(watch.page.url).query) == {"adjust": ["none"]}
    assert pressed(watch) == ["As traded"]
    raw = daily(watch)
    assert raw["basis"] == "none"
    assert raw["candles"] == candles_of(daily_bars(watch, "none"))
    assert len(raw["candles"]) == len(shown["candles"]) == 5
    for before, after in zip(shown["candles"], raw["candles"], strict=True):
        ratio = 4 if after["time"] < SPLIT else 1  # the split's ratio before its ex-date only
        for price in ("open", "high", "low", "close"):
            assert after[price] == pytest.approx(before[price] * ratio), (after["time"], price)
    assert raw["markers"] == shown["markers"]  # the actions do not depend on the basis
    # The analytics follow the basis: the split's session is the -139 % traded cliff.
    row = watch.page.locator("#analytics-table tbody tr", has_text=SPLIT)
    assert row.locator("td").nth(7).inner_text() == "-138.64 %"
    assert watch.faults == []
    watch.page.close()


def test_the_basis_in_the_address_is_the_one_drawn(browser: Any, site: str) -> None:
    watch = open_symbol(browser, site, "MSFT", "?adjust=all")
    shown = daily(watch)
    assert shown["basis"] == "all" and pressed(watch) == ["Splits + dividends"]
    every = daily_bars(watch, "all")
    assert shown["candles"] == candles_of(every)
    assert "total-return" in watch.page.locator("#daily-basis").inner_text()
    with watch.page.expect_response(lambda r: "interval=1d" in r.url and "adjust=splits" in r.url):
        watch.page.get_by_role("button", name="Splits", exact=True).click()
    watch.page.wait_for_selector("body[data-basis=splits]")
    splits = daily(watch)
    [dividend] = watch.answer("/api/actions/MSFT")
    # before the ex-date a total-return price is lower by the dividend's share of the close
    lower = [a["close"] < b["close"] for a, b in zip(shown["candles"], splits["candles"],
                                                     strict=True)]  # fmt: skip
    assert lower == [c["time"] < dividend["ex_date"] for c in splits["candles"]]
    assert watch.faults == []
    watch.page.close()
    # An unknown basis in the address is the default's, and leaves the address.
    watch = open_symbol(browser, site, "AAPL", "?adjust=raw")
    assert daily(watch)["basis"] == "splits" and urlsplit(watch.page.url).query == ""
    assert watch.faults == []
    watch.page.close()


def test_an_actions_words_are_its_ratio_in_lowest_terms_or_its_cash(
    browser: Any, site: str
) -> None:
    # Every ratio n:d of the gate's range with small terms, as the page words it (daily.js).
    ratios = sorted({Fraction(n, d) for n in range(1, 41) for d in range(1, 41)})
    watch = open_symbol(browser, site, "AAPL")
    words = watch.page.evaluate(
        """async ([ratios, cash]) => {
          const { splitText, dividendText } = await import("/static/daily.js");
          return { splits: ratios.map(([n, d]) => splitText(n / d)),
                   dividends: cash.map(([value, currency]) => dividendText(value, currency)) };
        }""",
        [
            [[r.numerator, r.denominator] for r in ratios],
            [[0.24, "USD"], [0.2425, "USD"], [1.5, "EUR"], [0.001, None], [0.123456, "USD"]],
        ],
    )
    assert words["splits"] == [f"{r.numerator}:{r.denominator} split" for r in ratios]
    assert words["dividends"] == [
        "div 0.24 USD", "div 0.2425 USD", "div 1.50 EUR", "div 0.001", "div 0.1235 USD"
    ]  # fmt: skip
    assert watch.faults == []
    watch.page.close()


def test_the_intraday_chart_is_as_traded_whatever_the_daily_basis(browser: Any, site: str) -> None:
    """One session's minutes share one basis and the quote above them is a traded price, so the
    intraday chart asks for its bars as traded on every basis the daily chart is on."""
    for query in ("", "?adjust=all"):
        watch = open_symbol(browser, site, "AAPL", query)
        minutes = [r for r in watch.answers if "/api/bars/" in r.url and "interval=1m" in r.url]
        assert minutes, [r.url for r in watch.answers]
        assert all(parse_qs(urlsplit(r.url).query)["adjust"] == ["none"] for r in minutes)
        assert watch.page.locator("#session-note").inner_text().endswith(", as traded")
        assert watch.faults == []
        watch.page.close()
