"""The JSON API behind the dashboard's pages: shapes match the CLI's `--json` outputs."""

from __future__ import annotations

from fastapi import APIRouter

from marketdata_assets.settings import StorageSettings


def router(settings: StorageSettings) -> APIRouter:
    """The API's routes over `settings`' stores."""
    routes = APIRouter()

    @routes.get("/healthz")
    def healthz() -> dict[str, str]:
        """The app answers, and which profile it reads."""
        return {"status": "ok", "profile": settings.profile}

    return routes
