"""The symbol page's charts in Chromium, read from the chart library's own state (`drawn` in
web/static/chart.js, imported into the page) and from their pixels: a volume point per bar, the
OHLCV legend following the crosshair, the served forecast and its interval on the intraday chart,
a missing session as a shaded gap on the daily chart, and the first bar and time label clear of
the left edge."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app
from marketdata_tests.screenshots import DOWN, UP, Watched, open_symbol, series_pixels
from marketdata_tests.web_data import serve

pytestmark = pytest.mark.system

NEW_YORK = ZoneInfo("America/New_York")
FORECAST, GAP = (124, 58, 237), (251, 227, 200)  # intraday.js, daily.js
NOW = datetime(2026, 11, 25, 14, 34, 20, tzinfo=UTC)  # in the last session, after its ticks
MISSING = "2026-11-18"  # a session removed from the daily bars of a copy of the data

# The library's state of one chart: its series' data, the slots' x coordinates (from the chart's
# left edge) and the spacing of two slots.
_STATE_JS = """async ([name, times]) => {
  const { drawn } = await import("/static/chart.js");
  const shown = drawn[name];
  const data = {};
  for (const [key, value] of Object.entries(shown)) {
    if (value && typeof value.data === "function") data[key] = value.data();
  }
  const scale = shown.chart.timeScale();
  return {
    data,
    missing: shown.missing ?? null,
    x: times.map((time) => scale.timeToCoordinate(time)),
    first: scale.logicalToCoordinate(0),
    spacing: scale.logicalToCoordinate(1) - scale.logicalToCoordinate(0),
  };
}"""

# Per colour, the pixels of the price pane's canvas in the column at client x (±1 px).
_COLUMN_JS = """([selector, clientX, colours]) => {
  const counts = colours.map(() => 0);
  for (const canvas of document.querySelectorAll(`${selector} canvas`)) {
    if (canvas.width < 200 || canvas.height < 100) continue;
    const rect = canvas.getBoundingClientRect();
    const ratio = canvas.width / rect.width;
    const x = Math.round((clientX - rect.left) * ratio);
    const data = canvas.getContext("2d").getImageData(x - 1, 0, 3, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      colours.forEach(([r, g, b], k) => {
        const near = Math.abs(data[i] - r) <= 8 && Math.abs(data[i + 1] - g) <= 8
          && Math.abs(data[i + 2] - b) <= 8;
        if (near && data[i + 3] > 200) counts[k] += 1;
      });
    }
  }
  return counts;
}"""

# The time axis's canvas (short and wide): its dark (label) pixels in the first 3 columns, and in
# all.
_AXIS_INK_JS = """(selector) => {
  for (const canvas of document.querySelectorAll(`${selector} canvas`)) {
    if (canvas.width < 200 || canvas.height >= 60 || canvas.height < 10) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let edge = 0, all = 0;
    for (let i = 0; i < data.length; i += 4) {
      const ink = data[i] < 120 && data[i + 1] < 120 && data[i + 2] < 120 && data[i + 3] > 200;
      if (!ink) continue;
      all += 1;
      if ((i / 4) % canvas.width < 3) edge += 1;
    }
    if (all) return [edge, all];
  }
  return null;
}"""


@pytest.fixture(scope="module")
def site(web_data_dir: Path) -> Iterator[str]:
    with serve(create_app(StorageSettings(data_dir=web_data_dir), clock=lambda: NOW)) as base:
        yield base


def chart_time(iso: str) -> int:
    """An instant as the page's chart time: New York's wall clock, as seconds of UTC."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    offset = moment.astimezone(NEW_YORK).utcoffset()
    assert offset is not None
    return int(moment.timestamp() + offset.total_seconds())


def day(iso: str) -> str:
    return (
        datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(NEW_YORK).date().isoformat()
    )


def ohlcv(bar: dict[str, Any]) -> str:
    """The legend's figures of a bar, from the test's data."""
    figures = " ".join(
        f"{k} {bar[key]:.2f}"
        for k, key in zip("OHLC", ("open", "high", "low", "close"), strict=True)
    )
    return f"{figures} V {bar['volume']:,}"


def minute_label(bar: dict[str, Any]) -> str:
    moment = datetime.fromisoformat(bar["start"].replace("Z", "+00:00")).astimezone(NEW_YORK)
    return f"{moment:%Y-%m-%d %H:%M} ET · {ohlcv(bar)}"


def state(watch: Watched, name: str, times: list[Any]) -> dict[str, Any]:
    result: dict[str, Any] = watch.page.evaluate(_STATE_JS, [name, times])
    return result


def hover(watch: Watched, selector: str, x: float) -> str:
    """Move the mouse to `x` (from the chart's left) in the chart's price pane; the legend."""
    watch.page.locator(selector).scroll_into_view_if_needed()
    box = watch.page.locator(selector).bounding_box()
    assert box is not None
    watch.page.mouse.move(box["x"] + x, box["y"] + 60)
    legend = selector.replace("-chart", "-ohlcv")
    return watch.page.locator(legend).inner_text()


def leave(watch: Watched, legend: str) -> str:
    watch.page.mouse.move(5, 5)  # the page's header: off every chart
    return watch.page.locator(legend).inner_text()


def test_each_chart_has_a_volume_bar_per_bar_and_a_legend_following_the_crosshair(
    browser: Any, site: str
) -> None:
    watch = open_symbol(browser, site, "AAPL")
    minutes = watch.answer("/api/bars/AAPL?interval=1m")
    daily = watch.answer("/api/bars/AAPL?interval=1d")
    assert len(minutes) == 390 and len(daily) > 20
    probe = [minutes[0], minutes[100], minutes[-1]]
    intraday = state(watch, "intraday", [chart_time(bar["start"]) for bar in probe])
    assert [p["value"] for p in intraday["data"]["volume"]] == [bar["volume"] for bar in minutes]
    assert [p["time"] for p in intraday["data"]["volume"]] == [
        chart_time(b["start"]) for b in minutes
    ]
    # Off the chart, the latest bar; over a bar, that bar; off again, the latest.
    assert watch.page.locator("#intraday-ohlcv").inner_text() == minute_label(minutes[-1])
    assert hover(watch, "#intraday-chart", intraday["x"][1]) == minute_label(minutes[100])
    assert hover(watch, "#intraday-chart", intraday["x"][0]) == minute_label(minutes[0])
    assert leave(watch, "#intraday-ohlcv") == minute_label(minutes[-1])

    days = [day(bar["start"]) for bar in daily]
    candles = state(watch, "daily", [days[3], days[-1]])
    assert candles["missing"] == []  # every session between the first and the last is held
    assert [p["value"] for p in candles["data"]["volume"]] == [bar["volume"] for bar in daily]
    assert len(candles["data"]["candles"]) == len(daily)
    assert watch.page.locator("#daily-ohlcv").inner_text() == f"{days[-1]} · {ohlcv(daily[-1])}"
    assert hover(watch, "#daily-chart", candles["x"][0]) == f"{days[3]} · {ohlcv(daily[3])}"
    assert leave(watch, "#daily-ohlcv") == f"{days[-1]} · {ohlcv(daily[-1])}"
    assert watch.page.locator("#daily-note").is_hidden()
    assert watch.faults == []
    watch.page.close()


def test_the_served_forecast_and_its_interval_are_drawn_from_the_last_close_to_their_target(
    browser: Any, site: str
) -> None:
    watch = open_symbol(browser, site, "AAPL")
    minutes = watch.answer("/api/bars/AAPL?interval=1m")
    for horizon, button in (("5m", None), ("1d", "1 day")):
        if button:
            with watch.page.expect_response(lambda r, h=horizon: f"horizon={h}" in r.url):
                watch.page.get_by_role("button", name=button).click()
            watch.page.wait_for_selector("#forecast .verdict")
        served = watch.answer(f"/api/forecast/AAPL?horizon={horizon}")
        target = chart_time(served["target"])
        watch.page.wait_for_function(
            """async (t) => {
              const { drawn } = await import("/static/chart.js");
              const d = drawn.intraday.forecast.data();
              return d.length && d[d.length - 1].time === t;
            }""",
            arg=target,
        )
        shown = state(watch, "intraday", [target])
        last = minutes[-1]
        for series, value in (("forecast", "forecast"), ("lower", "lower"), ("upper", "upper")):
            assert shown["data"][series] == [
                {"time": chart_time(last["start"]), "value": last["close"]},
                {"time": target, "value": served[value]},
            ], (horizon, series)
        label = datetime.fromisoformat(served["target"].replace("Z", "+00:00")).astimezone(NEW_YORK)
        assert hover(watch, "#intraday-chart", shown["x"][0]) == (
            f"{label:%Y-%m-%d %H:%M} ET · {served['served_model']} forecast "
            f"{served['forecast']:.2f} "
            f"(80 % interval {served['lower']:.2f} to {served['upper']:.2f})"
        )
        assert series_pixels(watch, "#intraday-chart", [FORECAST])[0] > 5, horizon
    assert watch.faults == []
    watch.page.close()


def test_a_session_missing_from_the_history_is_a_shaded_gap_on_the_daily_chart(
    browser: Any, web_data_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(web_data_dir, data_dir)
    shutil.rmtree(data_dir / "daily_bars" / f"date={MISSING}")
    with serve(create_app(StorageSettings(data_dir=data_dir), clock=lambda: NOW)) as base:
        watch = open_symbol(browser, base, "AAPL")
        daily = watch.answer("/api/bars/AAPL?interval=1d")
        held = [day(bar["start"]) for bar in daily]
        assert MISSING not in held
        before, after = max(d for d in held if d < MISSING), min(d for d in held if d > MISSING)
        shown = state(watch, "daily", [MISSING, before, after])
        assert shown["missing"] == [MISSING]
        # No candle and no volume there, but a slot of its own between its neighbours'.
        assert [p["time"] for p in shown["data"]["candles"]] == held
        assert [p["time"] for p in shown["data"]["volume"]] == held
        x_gap, x_before, x_after = shown["x"]
        assert x_before < x_gap < x_after
        assert x_after - x_before == pytest.approx(2 * shown["spacing"], abs=0.5)
        assert shown["data"]["gaps"] == [{"time": MISSING, "value": 1}]
        watch.page.locator("#daily-chart").scroll_into_view_if_needed()
        box = watch.page.locator("#daily-chart").bounding_box()
        assert box is not None
        column = [box["x"] + x for x in shown["x"]]
        gap_px, up, down = watch.page.evaluate(
            _COLUMN_JS, ["#daily-chart", column[0], [GAP, UP, DOWN]]
        )
        assert gap_px > 100 and up == down == 0, (gap_px, up, down)
        for x in column[1:]:  # the neighbours are candles
            assert sum(watch.page.evaluate(_COLUMN_JS, ["#daily-chart", x, [UP, DOWN]])) > 0
        assert hover(watch, "#daily-chart", shown["x"][0]) == (
            f"{MISSING} · not held: a session missing from the history"
        )
        assert watch.page.locator("#daily-note").inner_text() == (
            f"1 NYSE session is not held for AAPL (shaded gaps): {MISSING}"
        )
        assert watch.faults == []
        watch.page.close()


def test_the_first_bar_and_the_first_time_label_are_inside_the_plot(
    browser: Any, site: str
) -> None:
    watch = open_symbol(browser, site, "AAPL")
    for name in ("intraday", "daily"):
        shown = state(watch, name, [])
        # The first slot's whole width (a candle: its body) lies right of the plot's left edge.
        assert shown["first"] - shown["spacing"] / 2 >= 30, (name, shown["first"], shown["spacing"])
        ink = watch.page.evaluate(_AXIS_INK_JS, f"#{name}-chart")
        assert ink is not None and ink[1] > 100, name  # the axis has labels ...
        assert ink[0] == 0, (name, ink)  # ... none cut by the left edge
    assert watch.faults == []
    watch.page.close()
