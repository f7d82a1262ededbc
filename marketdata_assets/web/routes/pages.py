"""The dashboard's pages (each rendered once into the shell), the API's page and the icon."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from marketdata_assets.errors import ConfigError
from marketdata_assets.market import params
from marketdata_assets.web.pages import Page, render, render_message

STATIC = Path(__file__).parents[1] / "static"
PAGE_METHODS = ["GET", "HEAD"]  # the API answers GET alone; nothing answers a write


def page_router(pages: Sequence[Page]) -> APIRouter:
    """A route per page of `pages`, plus /docs (the vendored Swagger UI over /openapi.json;
    FastAPI's own loads it from a CDN) and /favicon.ico."""
    router = APIRouter(include_in_schema=False)
    for page in pages:
        html = render(page, pages)
        handler = _symbol_page(page.path, html, pages) if "{symbol}" in page.path else _page(html)
        router.add_api_route(page.path, handler, methods=PAGE_METHODS)
    router.add_api_route("/docs", _file("docs.html"), methods=PAGE_METHODS)
    router.add_api_route("/favicon.ico", _file("favicon.svg"), methods=PAGE_METHODS)
    return router


def not_found_page(path: str, pages: Sequence[Page]) -> HTMLResponse:
    """The HTML 404: what was asked, and the nav to go on from."""
    message = f"{path}: no such page. The pages are listed above."
    return HTMLResponse(render_message("Page not found", message, pages), status_code=404)


def _page(html: str) -> Callable[[], HTMLResponse]:
    def page() -> HTMLResponse:
        return HTMLResponse(html)

    return page


def _symbol_page(path: str, html: str, pages: Sequence[Page]) -> Callable[[str], Response]:
    def page(symbol: str) -> Response:
        """The page of a symbol as the API writes it; a symbol typed in lower case is sent to
        its upper-case page, and one that breaks the rule gets an HTML page naming the rule."""
        try:
            params.symbol(symbol, "symbol")
        except ConfigError as error:
            try:
                typed = params.typed_symbol(symbol, "symbol")
            except ConfigError:
                return HTMLResponse(
                    render_message("Not a symbol", str(error), pages), status_code=422
                )
            return RedirectResponse(
                path.replace("{symbol}", quote(typed, safe="")), status_code=308
            )
        return HTMLResponse(html)

    return page


def _file(name: str) -> Callable[[], FileResponse]:
    def file() -> FileResponse:
        return FileResponse(STATIC / name)

    return file
