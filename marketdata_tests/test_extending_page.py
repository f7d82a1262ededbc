"""Adding a dashboard page is one entry in the pages registry (plus its script and its test):
the shell serves it, with its title and script, and every page's nav lists it."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import CSP, create_app
from marketdata_assets.web.pages import PAGES, Page

STATIC = Path(__file__).parents[1] / "marketdata_assets" / "web" / "static"
MOVERS = Page("/movers", "Movers", "movers.js", nav="Movers")
COMPARE = Page("/compare/{symbol}", "Compare", "compare.js")  # reached from other pages only


class Nav(HTMLParser):
    """The (href, text) of each link in the page's `<nav aria-label="pages">`."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._inside = False
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "nav" and ("aria-label", "pages") in attrs:
            self._inside = True
        elif tag == "a" and self._inside:
            self._href = dict(attrs)["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.links.append((self._href, data.strip()))
            self._href = None


def nav_of(html: str) -> list[tuple[str, str]]:
    parser = Nav()
    parser.feed(html)
    return parser.links


def served(page: Page) -> str:
    return page.path.replace("{symbol}", "AAPL")


@pytest.mark.domain
def test_a_registered_page_is_served_in_the_shell_and_listed_in_every_pages_nav(
    tmp_path: Path,
) -> None:
    pages = (*PAGES, MOVERS, COMPARE)
    with TestClient(create_app(StorageSettings(data_dir=tmp_path), pages=pages)) as client:
        answer = client.get("/movers")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        assert "<title>Movers · Market data</title>" in answer.text
        assert '<script type="module" src="/static/movers.js"></script>' in answer.text
        assert answer.headers["content-security-policy"] == CSP
        expected = [(page.path, page.nav) for page in pages if page.nav is not None]
        assert ("/movers", "Movers") in expected and ("/compare/{symbol}", None) not in expected
        for page in pages:
            assert nav_of(client.get(served(page)).text) == expected, page.path
        assert client.get("/compare/MSFT").status_code == 200
        typed = client.get("/compare/msft", follow_redirects=False)
        assert typed.status_code == 308 and typed.headers["location"] == "/compare/MSFT"
        bad = client.get("/compare/%3Cb%3E")
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
        assert "symbol &#x27;&lt;b&gt;&#x27;: not a symbol (rule: " in bad.text


@pytest.mark.domain
def test_an_unregistered_page_is_not_served_nor_listed(tmp_path: Path) -> None:
    with TestClient(create_app(StorageSettings(data_dir=tmp_path))) as client:
        assert client.get("/movers").status_code == 404
        for page in PAGES:
            assert ("/movers", "Movers") not in nav_of(client.get(served(page)).text)


@pytest.mark.domain
def test_every_registered_page_has_its_script_and_the_nav_names_the_dashboards_pages(
    tmp_path: Path,
) -> None:
    listed = [(page.path, page.nav) for page in PAGES if page.nav]
    known = [("/", "Latest"), ("/quality", "Quality"), ("/ticks", "Ticks")]
    assert [entry for entry in listed if entry in known] == known  # all three, in this order
    with TestClient(create_app(StorageSettings(data_dir=tmp_path))) as client:
        for page in PAGES:
            assert (STATIC / page.script).is_file(), page.script
            html = client.get(served(page)).text
            assert f'<script type="module" src="/static/{page.script}"></script>' in html
            assert client.get(f"/static/{page.script}").status_code == 200
