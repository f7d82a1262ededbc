"""Dagster's UI draws the asset graph: the ticks, history and forecasts groups, each around its
assets, in Chromium against the real webserver on a fresh instance.

The server is `dagster-webserver` on the workspace: the same UI `make dev` (`dagster dev`) serves,
without the daemon, which the graph does not need. `python -m marketdata_tests.test_dagster_ui`
writes the README's screenshot with the same code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FloatRect, Locator, Page, expect

from marketdata_tests.browser import PageWatch, chromium
from marketdata_tests.conftest import free_port

pytestmark = pytest.mark.slow  # a real webserver and a browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "marketdata_tests" / "screenshots" / "dagster_asset_graph.png"
GROUPS = {
    "ticks": (
        "raw_ticks",
        "curated_ticks",
        "validated_ticks",
        "quarantined_ticks",
        "price_reference",
        "latest_prices",
    ),
    "history": (
        "raw_history",
        "minute_bars",
        "bars_quarantine",
        "daily_bars",
        "session_analytics",
        "validated_daily",
    ),
    "forecasts": ("forecast_skill", "price_forecasts"),
}
# Fits the expanded graph on screen after two steps of zooming out from the UI's default zoom.
VIEWPORT = (1440, 1000)
ZOOM_OUT_STEPS = 2


@contextmanager
def dagster_ui(home: Path) -> Iterator[str]:
    """The Dagster webserver on the workspace, with a fresh instance in `home` (telemetry off)
    and an empty data dir: its base URL, the server stopped afterwards."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "MARKETDATA_DATA_DIR": str(home / "data")}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # readiness poll, not a performance limit
            if server.poll() is not None:
                raise RuntimeError(f"webserver exited: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def show_asset_graph(page: Page, base: str) -> None:
    """Open the global asset lineage on a fresh instance: skip the "Join the Dagster community"
    modal of the first visit, expand every group and zoom out until the graph fits."""
    page.goto(f"{base}/asset-groups")
    community = page.get_by_role("dialog").filter(has_text="Join the Dagster community")
    community.get_by_role("button", name="Skip").click()
    expect(community).to_be_hidden()
    graph = page.locator("svg foreignObject")
    expect(graph.get_by_text("forecasts", exact=True)).to_be_visible()  # groups drawn collapsed
    page.locator('[aria-label="settings"]').last.click()  # the graph's settings, bottom right
    page.get_by_role("menuitem").filter(has_text="Expand all groups").click()
    page.keyboard.press("Escape")
    for _ in range(ZOOM_OUT_STEPS):
        page.locator('[aria-label="zoom_out"]').click()


def group_box(page: Page, group: str) -> FloatRect:
    """Where the graph draws a group's frame (the box its label heads)."""
    frame = page.locator("svg foreignObject").filter(has=page.get_by_text(group, exact=True))
    box = frame.bounding_box()
    assert box is not None, f"group {group}: not drawn"
    return box


def asset_node(page: Page, asset: str) -> Locator:
    return page.locator("svg foreignObject").get_by_text(asset, exact=True)


def inside(inner: FloatRect, outer: FloatRect) -> bool:
    return (
        outer["x"] <= inner["x"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and outer["y"] <= inner["y"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


@pytest.fixture(scope="module")
def dagster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with dagster_ui(tmp_path_factory.mktemp("dagster_home")) as base:
        yield base


def test_asset_graph_draws_each_group_around_its_assets(
    dagster_url: str, browser: Browser, tmp_path: Path
) -> None:
    watch = PageWatch.open(browser, *VIEWPORT)
    page = watch.page
    show_asset_graph(page, dagster_url)
    for group, assets in GROUPS.items():
        for asset in assets:
            expect(asset_node(page, asset)).to_be_in_viewport(ratio=1)
        frame = group_box(page, group)
        for asset in assets:
            box = asset_node(page, asset).bounding_box()
            assert box is not None and inside(box, frame), f"{asset} drawn outside group {group}"
    drawn = {(text or "").strip() for text in page.locator("svg foreignObject").all_text_contents()}
    assert drawn - {""} == set(GROUPS) | {asset for assets in GROUPS.values() for asset in assets}
    page.screenshot(path=tmp_path / "dagster_asset_graph.png")
    assert (tmp_path / "dagster_asset_graph.png").stat().st_size > 0
    page.close()


def main() -> None:
    """Write the README's screenshot of the asset graph."""
    with (
        tempfile.TemporaryDirectory(prefix="dagster-ui-") as home,
        dagster_ui(Path(home)) as base,
        chromium() as browser,
    ):
        page = PageWatch.open(browser, *VIEWPORT).page
        show_asset_graph(page, base)
        expect(asset_node(page, "raw_ticks")).to_be_in_viewport(ratio=1)
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOT)
    print(SCREENSHOT.relative_to(ROOT))


if __name__ == "__main__":
    main()
