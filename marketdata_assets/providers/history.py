"""History sources: where a session's bars come from, and the envelopes they fetch them in.

A source's `fetch(session, symbols)` is the session's `raw_history` object: JSON Lines, one
envelope per symbol, sorted by symbol, compact with sorted keys:

    {"body": <the body text exactly as received>, "error": <typed one-line error or null>,
     "request": <the URL without any key, a file name, or null>, "session": "YYYY-MM-DD",
     "source": <source name>, "status": <HTTP status or null>, "symbol": S}

and, where the source lands corporate actions beside the bars, `"actions"`: a file's
`--actions` rows of the symbol and session (their text), or Alpha Vantage's actions answers
(an object, `alphavantage.actions`); where the bars come on an adjusted basis, `"basis"`: the
answer stating the actions known when they were fetched (Yahoo's, `yahoo.basis`).

`history_parse` reads such payloads back into bar candidates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

from marketdata_assets.market.calendar import is_session
from marketdata_assets.providers.fetching import FetchPolicy, Request

# A backfill's session waits for its answers longer than a minute tick can: a month of
# 1-minute bars is about a megabyte.
HISTORY_FETCH_POLICY = FetchPolicy(request_timeout_s=30.0, deadline_s=300.0)


class HistoryError(ValueError):
    """A whole source's input breaks a rule; the message is one line naming the input and it."""


class HistorySource(Protocol):
    name: str

    def requests_needed(self, sessions: Sequence[date], symbols: Sequence[str]) -> int:
        """HTTP requests a fetch of these sessions and symbols would cost."""
        ...

    def symbols(self) -> list[str] | None:
        """The symbols the source holds, sorted; None when it serves any symbol."""
        ...

    def fetch(self, session: date, symbols: Sequence[str]) -> bytes:
        """The session's raw_history payload for `symbols`."""
        ...


@runtime_checkable
class RangedSource(HistorySource, Protocol):
    """A source that holds rows of sessions outside a backfill's range (a file): it counts
    them, so the backfill accounts for every row it holds."""

    def outside_range(self, first: date, last: date, symbols: Sequence[str]) -> int:
        """The rows of `symbols` on sessions a backfill can run outside `first`..`last`."""
        ...


def require_session(day: date) -> None:
    """HistoryError unless `day` is an NYSE session."""
    if not is_session(day):
        raise HistoryError(f"{day.isoformat()}: not an NYSE session; history is fetched by session")


def envelope(
    source: str,
    symbol: str,
    session: date,
    body: str | None,
    *,
    request: str | None = None,
    status: int | None = None,
    error: str | None = None,
    actions: str | dict[str, object] | None = None,
    basis: dict[str, object] | None = None,
) -> str:
    """One raw_history line (without its newline); `actions`, the corporate actions landed
    with the symbol's bars, and `basis`, the answer stating their price basis, are members
    only when given."""
    fields: dict[str, object] = {
        "body": body,
        "error": error,
        "request": request,
        "session": session.isoformat(),
        "source": source,
        "status": status,
        "symbol": symbol,
    }
    if actions is not None:
        fields["actions"] = actions
    if basis is not None:
        fields["basis"] = basis
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Fetched:
    """One symbol's answer from `fetch_all`, without the time it was received (so the raw
    object depends only on what the provider said)."""

    symbol: str
    body: str | None
    request: str  # the URL without the key (the transport adds it)
    status: int | None
    error: str | None

    def line(self, source: str, session: date, basis: Fetched | None = None) -> str:
        return envelope(
            source,
            self.symbol,
            session,
            self.body,
            request=self.request,
            status=self.status,
            error=self.error,
            basis=basis.answer() if basis is not None else None,
        )

    def answer(self) -> dict[str, object]:
        """The answer as an envelope member holds it: body, error, request and status."""
        return {
            "body": self.body,
            "error": self.error,
            "request": self.request,
            "status": self.status,
        }


def fetched(requests: Sequence[Request], answers: bytes) -> list[Fetched]:
    """`fetch_all`'s lines (one per request, in order) as answers."""
    found = []
    for request, line in zip(requests, answers.decode().splitlines(), strict=True):
        answer = json.loads(line)
        found.append(
            Fetched(
                request.symbol,
                answer["body"],
                f"{request.url}?{urlencode(request.params)}",
                answer["fetch"].get("status"),
                answer["fetch"].get("error"),
            )
        )
    return found


def payload(lines: Sequence[str]) -> bytes:
    """Envelope lines as a raw_history payload: sorted by symbol, each ending in a newline."""
    return "".join(line + "\n" for line in lines).encode()


def envelope_symbol(line: bytes) -> str | None:
    """The symbol of one raw_history line; None when the line is no envelope. Total."""
    envelope = read_envelope(line)
    return envelope["symbol"] if envelope is not None else None


def read_envelope(line: bytes) -> dict[str, Any] | None:
    """The envelope on `line`, None unless it is a JSON object with a string `source` and
    `symbol`."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("source"), str)
        or not isinstance(value.get("symbol"), str)
    ):
        return None
    return value
