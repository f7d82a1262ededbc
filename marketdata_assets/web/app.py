"""The dashboard's app: its pages (web/pages), their static files and the JSON API (a router per
resource under web/routes), read-only.

Every response carries a strict Content-Security-Policy (no inline scripts or styles), `nosniff`
and no referrer; only GET and HEAD are routed. Bad parameters are 422 with a one-line `detail`
naming the parameter and the rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketdata_assets import stores
from marketdata_assets.errors import ConfigError
from marketdata_assets.settings import Settings, StorageSettings
from marketdata_assets.web.pages import PAGES, Page

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds the CSP, nosniff and no-referrer headers to every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend(
                    [
                        (b"content-security-policy", CSP.encode()),
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"no-referrer"),
                    ]
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _now() -> datetime:
    return datetime.now(UTC)


def _configured(settings: StorageSettings) -> tuple[str, ...]:
    """The configured symbols (MARKETDATA_SYMBOLS); none when the tick's settings do not load
    (a reader never stops on them)."""
    if isinstance(settings, Settings):
        return settings.symbols
    try:
        return Settings.from_env().symbols
    except ConfigError:
        return ()


def create_app(
    settings: StorageSettings | None = None,
    pages: Sequence[Page] = PAGES,
    clock: Callable[[], datetime] = _now,
) -> FastAPI:
    """The dashboard over `settings`' stores (None: `StorageSettings.from_env()`), serving
    `pages` (default: the registered ones), telling the time by `clock` (the market's state,
    a price's age)."""
    from marketdata_assets.web.reads import Reader
    from marketdata_assets.web.routes import ROUTERS
    from marketdata_assets.web.routes.pages import page_router

    settings = settings or StorageSettings.from_env()
    app = FastAPI(
        title="marketdata dashboard",
        description="Read-only JSON behind the dashboard's pages, shaped as `marketdata … --json`.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.reader = Reader(stores.lake_store(settings), stores.latest_store(settings))
    app.state.profile = settings.profile
    app.state.clock = clock
    app.state.configured = _configured(settings)
    app.add_exception_handler(RequestValidationError, _one_line_422)
    app.add_exception_handler(ConfigError, _bad_parameter)
    app.add_exception_handler(RuntimeError, _storage_failed)
    app.add_exception_handler(StarletteHTTPException, _not_found_page(pages))
    app.add_middleware(SecurityHeaders)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(page_router(pages))
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    return app


# Paths that answer JSON (or files) whatever happens: everything else is a page.
_NOT_PAGES = ("/api/", "/static/", "/openapi.json")


def _not_found_page(
    pages: Sequence[Page],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Starlette's errors as JSON under the API, as an HTML page with the nav for a page not
    found (a 405 stays JSON: only GET and HEAD are routed)."""
    from fastapi.exception_handlers import http_exception_handler

    from marketdata_assets.web.routes.pages import not_found_page

    async def handler(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        path = request.url.path
        if error.status_code == 404 and not path.startswith(_NOT_PAGES):
            return not_found_page(path, pages)
        return await http_exception_handler(request, error)

    return handler


async def _one_line_422(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's list of validation errors as one line: the parameter, its value, the rule."""
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    name = first["loc"][-1]
    value = first.get("input")
    shown = f" {value!r}" if value is not None else ""
    return JSONResponse({"detail": f"{name}{shown}: {first['msg'].lower()}"}, status_code=422)


async def _bad_parameter(request: Request, error: Exception) -> JSONResponse:
    """A parameter that breaks its rule (the checks the CLI shares) is 422 with its one line."""
    return JSONResponse({"detail": " ".join(str(error).split())}, status_code=422)


async def _storage_failed(request: Request, error: Exception) -> JSONResponse:
    """A storage failure (a missing bucket or table) is 503 with its one line; anything else
    stays a server error."""
    from marketdata_assets.lake import LakeError
    from marketdata_assets.latest.dynamodb import StoreError

    if not isinstance(error, LakeError | StoreError):
        raise error
    return JSONResponse({"detail": " ".join(str(error).split())}, status_code=503)
