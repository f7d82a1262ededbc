"""GET /healthz: the app answers, and which profile it reads."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from marketdata_assets.web.deps import ReaderDep

router = APIRouter()


class Health(BaseModel):
    status: str
    profile: str


@router.get("/healthz", response_model=Health)
def healthz(reader: ReaderDep) -> dict[str, str]:
    """The app answers, and which profile it reads."""
    return {"status": "ok", "profile": reader.settings.profile}
