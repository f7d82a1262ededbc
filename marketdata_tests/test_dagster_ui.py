"""Dagster's UI draws the asset graph: the ticks, history and forecasts groups, each around its
assets, in Chromium against the real webserver on a fresh instance.

The server is `dagster-webserver` on the workspace: the same UI `make dev` (`dagster dev`) serves,
without the daemon, which the graph does not need. `python -m marketdata_tests.test_dagster_ui`
writes the README's screenshot with the same code.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from marketdata_tests.browser import PageWatch, chromium
from marketdata_tests.dagster_server import dagster_webserver

pytestmark = pytest.mark.system


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
        "corporate_actions",
        "actions_quarantine",
        "minute_bars_monthly",
    ),
    "forecasts": ("forecast_skill", "price_forecasts"),
}
# A hang guard for the UI's waits (its layout runs in a web worker): not a speed check.
HANG_MS = 60_000
ASSET_NAME = re.compile(r"^[a-z]+_[a-z_]+$")  # every asset's name; no group's
VIEWPORT = (1440, 1000)
# Zooming out until the expanded graph fits (about two steps from the UI's default zoom here);
# a zoom or a new layout animates for a moment first: a settling pause, not a speed check.
ZOOM_OUT_STEPS = 6
SETTLE_MS = 500
# What the graph draws, measured in the page: each labelled box (a group's frame, headed by its
# name, or an asset's node) by its text, and `view`, the visible part of the graph's panel
# (below its toolbar). Boxes are [left, top, right, bottom]; nodes off screen are not drawn.
_DRAWN = """() => {
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  const nodes = [...document.querySelectorAll("svg foreignObject")];
  let panel = nodes[0].ownerSVGElement;
  while (getComputedStyle(panel).overflow !== "hidden") panel = panel.parentElement;
  const view = box(panel);
  const toolbar = [...document.querySelectorAll("button")].find((b) =>
    b.textContent.includes("Materialize all"));
  view[1] = Math.max(view[1], box(toolbar)[3]);
  const drawn = { view };
  for (const node of nodes) if (node.textContent.trim()) drawn[node.textContent.trim()] = box(node);
  return drawn;
}"""
Box = tuple[float, float, float, float]


@contextmanager
def dagster_ui(home: Path) -> Iterator[str]:
    """The Dagster webserver on the workspace, with a fresh instance in `home` (telemetry off)
    and an empty data dir: its base URL, the server stopped afterwards."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dagster_webserver(home) as base:
        yield base


def show_asset_graph(page: Page, base: str) -> None:
    """Open the global asset lineage on a fresh instance: skip the "Join the Dagster community"
    modal of the first visit, expand every group and zoom out until the graph fits."""
    page.set_default_timeout(HANG_MS)
    page.goto(f"{base}/asset-groups")
    community = page.get_by_role("dialog").filter(has_text="Join the Dagster community")
    community.get_by_role("button", name="Skip").click()
    expect(community).to_be_hidden(timeout=HANG_MS)
    graph = page.locator("svg foreignObject")
    # Collapsed at first: the groups are drawn, their assets not.
    expect(graph.get_by_text("forecasts", exact=True)).to_be_visible(timeout=HANG_MS)
    page.locator('[aria-label="settings"]').last.click()  # the graph's settings, bottom right
    page.get_by_role("menuitem").filter(has_text="Expand all groups").click()
    page.keyboard.press("Escape")
    graph.get_by_text(ASSET_NAME).first.wait_for()  # the expanded layout is drawn
    for _ in range(ZOOM_OUT_STEPS):
        page.wait_for_timeout(SETTLE_MS)
        drawn = drawn_boxes(page)
        if all(name in drawn and inside(drawn[name], drawn["view"]) for name in GROUPS):
            return
        page.locator('[aria-label="zoom_out"]').click()
    page.wait_for_timeout(SETTLE_MS)


def drawn_boxes(page: Page) -> dict[str, Box]:
    """The graph's labelled boxes by their text, and its visible panel as `view`. The UI
    shortens a long name in its middle (`minute_ba…_monthly`): such a label is named by the one
    asset of GROUPS it abbreviates (left as drawn when none or several fit)."""
    names = [*GROUPS, *(asset for members in GROUPS.values() for asset in members)]
    drawn: dict[str, Box] = {}
    for label, box in page.evaluate(_DRAWN).items():
        head, cut, tail = label.partition("…")
        fits = [n for n in names if n.startswith(head) and n.endswith(tail)] if cut else []
        drawn[fits[0] if len(fits) == 1 else label] = tuple(box)  # type: ignore[assignment]
    return drawn


def inside(inner: Box, outer: Box) -> bool:
    (left, top, right, bottom), (left_out, top_out, right_out, bottom_out) = inner, outer
    return left_out <= left and top_out <= top and right <= right_out and bottom <= bottom_out


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
    drawn = drawn_boxes(page)
    assets = {asset for members in GROUPS.values() for asset in members}
    assert set(drawn) == {"view", *GROUPS, *assets}  # every group and asset, nothing else
    for group, members in GROUPS.items():
        assert inside(drawn[group], drawn["view"]), f"group {group}: not wholly on screen"
        for asset in members:
            assert inside(drawn[asset], drawn[group]), f"{asset}: drawn outside group {group}"
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
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOT)
    print(SCREENSHOT.relative_to(ROOT))


if __name__ == "__main__":
    main()
