"""Driving the dashboard's pages in Chromium, for the browser tests and the README's screenshots.

Each `open_*` navigates a fresh watched page (`PageWatch`) and waits until the page has shown its
data or its empty state. `python -m marketdata_tests.screenshots` fills a temporary data dir with
`web_data.prepare`, serves it, and writes `marketdata_tests/screenshots/{latest,symbol,quality,
ticks}.png` (1280x900) from the same code.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Response

from marketdata_tests.browser import PageWatch

SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTH, HEIGHT = 1280, 900
# A hang guard, not a speed check: a wait that never ends fails after this many ms.
HANG_MS = 120_000
# The pixels the charts' series are drawn in (intraday.js, daily.js): close, VWAP, candles.
CLOSE, VWAP, UP, DOWN = (29, 78, 216), (217, 119, 6), (4, 120, 87), (185, 28, 28)

# Counts, over the plot canvases inside `selector` (not the narrow price axis, not the short time
# axis, whose labels also use series colours), the pixels within 8 of each [r, g, b].
_PIXELS_JS = """([selector, colours]) => {
  const counts = colours.map(() => 0);
  for (const canvas of document.querySelectorAll(`${selector} canvas`)) {
    if (canvas.width < 200 || canvas.height < 100) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
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


@dataclass
class Watched(PageWatch):
    """A watched page that also keeps the API's answers to it, so a test can compare the page with
    exactly what it was given (without asking the API again)."""

    answers: list[Response] = field(default_factory=list)

    def answer(self, path: str) -> Any:
        """The JSON of the page's last API response whose URL contains `path`."""
        found = [response for response in self.answers if path in response.url]
        if not found:
            raise LookupError(f"the page fetched no {path!r}: {[r.url for r in self.answers]}")
        return found[-1].json()

    def _answered(self, response: Response) -> None:
        if "/api/" in response.url:
            self.answers.append(response)


def _open(browser: Browser, url: str, *ready: str) -> Watched:
    """A watched page at `url`, once each of the `ready` selectors matches."""
    watch = Watched.open(browser, WIDTH, HEIGHT)
    assert isinstance(watch, Watched)
    watch.page.on("response", watch._answered)
    watch.page.set_default_timeout(HANG_MS)
    watch.page.goto(url)
    for selector in ready:
        watch.page.wait_for_selector(selector)
    return watch


def open_latest(browser: Browser, base: str) -> Watched:
    """`/`, once the prices (or the empty state) and the last tick are shown."""
    prices, tick = "#latest :is(tbody tr, p.empty) >> nth=0", "#last-tick :is(dl, p.empty)"
    return _open(browser, f"{base}/", prices, tick)


def open_symbol(browser: Browser, base: str, symbol: str, query: str = "") -> Watched:
    """`/symbol/{symbol}` (with `query`, e.g. "?adjust=none"), once its charts are painted and its
    forecast (or what to run) shown."""
    return _open(
        browser,
        f"{base}/symbol/{symbol}{query}",
        "body[data-ready=charts]",
        "#forecast :is(.verdict, p.empty, p.error)",
    )


def open_quality(browser: Browser, base: str, query: str = "") -> Watched:
    """`/quality` (with `query`, e.g. "?tick=…"), once its rows or its empty state are shown."""
    return _open(browser, f"{base}/quality{query}", "#rows :is(article.record, p.empty) >> nth=0")


def open_ticks(browser: Browser, base: str) -> Watched:
    """`/ticks`, once its table or its empty state is shown."""
    return _open(browser, f"{base}/ticks", "#ticks :is(table, p.empty)")


Colour = tuple[int, int, int]


def series_pixels(watch: PageWatch, selector: str, colours: list[Colour]) -> list[int]:
    """How many pixels of each colour the canvases inside `selector` hold."""
    counts = watch.page.evaluate(_PIXELS_JS, [selector, [list(c) for c in colours]])
    return [int(n) for n in counts]


def take(browser: Browser, base: str, folder: Path) -> dict[str, Path]:
    """Screenshots of the four pages (the viewport, 1280x900) into `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = {
        "latest": lambda: open_latest(browser, base),
        "symbol": lambda: open_symbol(browser, base, "AAPL"),
        "quality": lambda: open_quality(browser, base),
        "ticks": lambda: open_ticks(browser, base),
    }
    shots = {}
    for name, opener in pages.items():
        watch = opener()
        try:
            if watch.faults:
                raise RuntimeError(f"{name}: the page reported {watch.faults}")
            shots[name] = folder / f"{name}.png"
            watch.page.screenshot(path=shots[name], animations="disabled", caret="hide")
        finally:
            watch.page.close()
    return shots


def main() -> None:
    """Write the committed screenshots from a freshly prepared data dir."""
    from marketdata_assets.settings import StorageSettings
    from marketdata_assets.web.app import create_app
    from marketdata_tests.browser import chromium
    from marketdata_tests.web_data import prepare, serve

    home = Path.cwd()
    with tempfile.TemporaryDirectory() as scratch:
        # A relative data dir, as a user's `data/`: the replay commands shown name `data/raw/…`.
        os.chdir(scratch)
        try:
            data_dir = Path("data")
            prepare(data_dir)
            app = create_app(StorageSettings(data_dir=data_dir))
            with serve(app) as base, chromium() as browser:
                for name, path in take(browser, base, SCREENSHOTS).items():
                    print(f"{name}: {path} ({path.stat().st_size // 1024} KB)")
        finally:
            os.chdir(home)


if __name__ == "__main__":
    main()
