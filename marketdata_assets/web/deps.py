"""What the routes share: the reader taken from the app's state, the parameters every history
route declares, and the answers they return (an empty one says what to run)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from marketdata_assets.market import params
from marketdata_assets.market.symbols import SYMBOL_PATTERN
from marketdata_assets.web.reads import Reader, answer_json

MAX_LIMIT = 1000


def get_reader(request: Request) -> Reader:
    """The app's one Reader, built by `create_app` and reused by every request."""
    reader: Reader = request.app.state.reader
    return reader


ReaderDep = Annotated[Reader, Depends(get_reader)]


def checked_symbol(
    symbol: Annotated[
        str, Path(description=f"a ticker symbol ({SYMBOL_PATTERN})", examples=["AAPL"])
    ],
) -> str:
    """The path's symbol, checked by the platform's rule."""
    return params.symbol(symbol, "symbol")


SymbolDep = Annotated[str, Depends(checked_symbol)]
First = Annotated[
    str | None, Query(alias="from", description="first session, YYYY-MM-DD (default: as the CLI)")
]
Last = Annotated[
    str | None, Query(alias="to", description="last session, YYYY-MM-DD (default: the latest held)")
]


class Row(BaseModel):
    """A row of an answer: the fields named are checked, any others pass through."""

    model_config = ConfigDict(extra="allow")


class Empty(BaseModel):
    """An empty answer and what to run to fill it."""

    rows: list[Any]
    message: str


def rows_or_empty(rows: list[dict[str, Any]], message: str) -> list[dict[str, Any]] | Empty:
    """The rows, or, when there are none, the empty answer saying what to run."""
    return rows if rows else Empty(rows=[], message=message)


def encoded(body: bytes) -> Response:
    """An answer the reader encoded already (its fast path), sent as it is."""
    return Response(body, media_type="application/json")


def encoded_or_empty(body: bytes | None, message: str) -> Response:
    """An encoded answer, or, when there is none, the empty answer saying what to run."""
    return encoded(body if body else answer_json([], message))
