"""The dashboard's pages (each rendered once into the shell), the API's page and the icon."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from marketdata_assets.web.deps import SymbolDep
from marketdata_assets.web.pages import Page, render

STATIC = Path(__file__).parents[1] / "static"
PAGE_METHODS = ["GET", "HEAD"]  # the API answers GET alone; nothing answers a write


def page_router(pages: Sequence[Page]) -> APIRouter:
    """A route per page of `pages`, plus /docs (the vendored Swagger UI over /openapi.json;
    FastAPI's own loads it from a CDN) and /favicon.ico."""
    router = APIRouter(include_in_schema=False)
    for page in pages:
        html = render(page, pages)
        handler = _symbol_page(html) if "{symbol}" in page.path else _page(html)
        router.add_api_route(page.path, handler, methods=PAGE_METHODS)
    router.add_api_route("/docs", _file("docs.html"), methods=PAGE_METHODS)
    router.add_api_route("/favicon.ico", _file("favicon.svg"), methods=PAGE_METHODS)
    return router


def _page(html: str) -> Callable[[], HTMLResponse]:
    def page() -> HTMLResponse:
        return HTMLResponse(html)

    return page


def _symbol_page(html: str) -> Callable[[str], HTMLResponse]:
    def page(symbol: SymbolDep) -> HTMLResponse:  # a bad symbol is 422 before the page
        return HTMLResponse(html)

    return page


def _file(name: str) -> Callable[[], FileResponse]:
    def file() -> FileResponse:
        return FileResponse(STATIC / name)

    return file
