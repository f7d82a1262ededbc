"""GET /healthz: the app answers, and which profile it reads."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter()


class Health(BaseModel):
    status: str
    profile: str


@router.get("/healthz", response_model=Health)
def healthz(request: Request) -> dict[str, str]:
    """The app answers, and which profile it reads."""
    return {"status": "ok", "profile": request.app.state.profile}
