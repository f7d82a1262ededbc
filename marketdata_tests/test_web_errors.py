"""No dead ends on the dashboard (issue 21, item 5): an HTML route answers an HTML page with the
nav (a 404 for an unknown path, an error page naming the rule for a symbol that breaks it, a
redirect from a lower-case symbol to its page), while everything under /api/ stays JSON."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app
from marketdata_assets.web.pages import PAGES

pytestmark = pytest.mark.domain
NAV = [f'<a href="{page.path}">{page.nav}</a>' for page in PAGES if page.nav]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    storage = StorageSettings(data_dir=tmp_path_factory.mktemp("data"))
    with TestClient(create_app(storage)) as test_client:
        yield test_client


def assert_page(answer, status: int) -> str:
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert "unsafe-inline" not in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    for link in NAV:
        assert link in answer.text
    return str(answer.text)


@pytest.mark.parametrize("path", ["/nope", "/symbol", "/symbols/AAPL", "/quality/x"])
def test_an_unknown_page_is_an_html_404_with_the_nav(client: TestClient, path: str) -> None:
    html = assert_page(client.get(path), 404)
    assert "<h1>Page not found</h1>" in html and f"{path}: no such page" in html


@pytest.mark.parametrize(("typed", "page"), [("aapl", "AAPL"), ("brk.b", "BRK.B"), ("Ko", "KO")])
def test_a_lower_case_symbol_is_sent_to_its_page(client: TestClient, typed: str, page: str) -> None:
    answer = client.get(f"/symbol/{typed}", follow_redirects=False)
    assert answer.status_code == 308 and answer.headers["location"] == f"/symbol/{page}"
    assert_page(client.get(f"/symbol/{typed}"), 200)


def test_a_symbol_breaking_the_rule_is_an_html_page_naming_it_as_text(client: TestClient) -> None:
    html = assert_page(client.get("/symbol/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"), 422)
    assert "<h1>Not a symbol</h1>" in html and "not a symbol (rule: ^[A-Z0-9]" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("path", ["/api/nope", "/api/bars", "/static/nope.js"])
def test_the_api_and_static_files_stay_json(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert answer.json() == {"detail": "Not Found"}


def test_an_api_symbol_breaking_the_rule_stays_a_json_422(client: TestClient) -> None:
    answer = client.get("/api/bars/aapl")
    assert answer.status_code == 422 and answer.json()["detail"].startswith("symbol 'aapl'")
