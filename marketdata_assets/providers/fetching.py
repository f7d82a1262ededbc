"""Fetching over HTTP for the real providers: retries with jittered backoff, a per-request
timeout and a deadline for the whole tick. Every requested symbol comes back as exactly one
raw line: the response body exactly as received, or an error entry — nothing is dropped.

A raw line from an HTTP provider is an envelope:
    {"fetch": {"provider", "symbol", "status", "at", "attempts"[, "error"][, "redacted"]},
     "body": "<text>"}
Curation hands the body to the provider's parser; an envelope with an `error` is counted as a
provider error, not a record. The one change ever made to a body is the redaction of a secret
the provider echoed back (an API key), flagged by `"redacted": true`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
REDACTED = "[REDACTED]"


class FetchError(Exception):
    """A symbol's fetch failed: `kind` names the failure; `retryable` says if trying helps."""

    def __init__(self, kind: str, detail: str, *, retryable: bool, status: int | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail, self.retryable, self.status = kind, detail, retryable, status


@dataclass(frozen=True)
class FetchPolicy:
    request_timeout_s: float = 5.0
    deadline_s: float = 40.0  # the whole tick's fetching, so the tick finishes inside its minute
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    workers: int = 8  # symbols fetched at once (httpx clients are thread-safe)


@dataclass(frozen=True)
class Request:
    symbol: str
    url: str
    params: dict[str, str]


def backoff(attempt: int, policy: FetchPolicy, rng: random.Random) -> float:
    """Full-jitter exponential backoff before attempt `attempt + 1`."""
    return rng.uniform(0, min(policy.backoff_max_s, policy.backoff_base_s * 2**attempt))


def fetch_all(
    provider: str,
    requests: Sequence[Request],
    check: Callable[[Answer], None],
    policy: FetchPolicy,
    client: httpx.Client,
    *,
    secrets: Sequence[str] = (),
    may_retry: Callable[[], bool] = lambda: True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> bytes:
    """One envelope line per request, in order. `check` raises FetchError for a bad response.

    `secrets` never reach a body or an error text; `may_retry` is asked before every retry
    (a request budget says no when it has no request left).
    """
    rng = rng or random.Random()
    deadline = clock() + policy.deadline_s

    def redact(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, REDACTED) if secret else text
        return text

    def one(request: Request) -> str:
        meta: dict[str, object] = {"provider": provider, "symbol": request.symbol, "attempts": 0}
        body: str | None = None
        for attempt in range(1, policy.max_attempts + 1):
            remaining = deadline - clock()
            if remaining <= 0:
                meta["error"] = "DeadlineExceeded: the tick's fetch deadline passed"
                break
            meta["attempts"] = attempt
            try:
                status, received = _get(
                    client, request, min(policy.request_timeout_s, remaining), clock
                )
                body = redact(received)
                meta["status"] = status
                if body != received:
                    meta["redacted"] = True
                check(Answer(status, body))
                meta.pop("error", None)
                break
            except httpx.TimeoutException:
                error = FetchError("Timeout", "no complete answer in time", retryable=True)
            except httpx.RequestError as failure:  # never str(failure): it may hold the URL
                error = FetchError("TransportError", type(failure).__name__, retryable=True)
            except FetchError as failure:
                error = failure
            meta["error"] = redact(str(error))
            if not error.retryable or attempt == policy.max_attempts:
                break
            pause = backoff(attempt - 1, policy, rng)
            if clock() + pause >= deadline or not may_retry():
                break
            sleep(pause)
        meta["at"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return json.dumps({"fetch": meta, "body": body}, separators=(",", ":"))

    with ThreadPoolExecutor(max_workers=policy.workers) as pool:
        lines = list(pool.map(one, requests))  # in request order
    return "".join(line + "\n" for line in lines).encode()


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as the checks see it."""

    status: int
    text: str


def _get(
    client: httpx.Client, request: Request, budget_s: float, clock: Callable[[], float]
) -> tuple[int, str]:
    """GET within `budget_s` in all: httpx's timeouts bound each read, not a body that trickles."""
    started = clock()
    with client.stream("GET", request.url, params=request.params, timeout=budget_s) as response:
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if clock() - started > budget_s:
                raise httpx.ReadTimeout("the body did not arrive in time")
        return response.status_code, b"".join(chunks).decode(
            response.encoding or "utf-8", "replace"
        )


def check_status(response: Answer) -> None:
    """Retry 429 and 5xx; any other non-2xx is final."""
    if response.status == 429:
        raise FetchError("RateLimited", "HTTP 429", retryable=True, status=429)
    if response.status in RETRYABLE_STATUS:
        raise FetchError("ServerError", f"HTTP {response.status}", retryable=True)
    if response.status >= 400:
        raise FetchError("ClientError", f"HTTP {response.status}", retryable=False)


def json_body(response: Answer) -> object:
    """The response as JSON; truncated JSON or an HTML page is retryable."""
    try:
        return json.loads(response.text)
    except ValueError:
        kind = "HtmlPage" if response.text.lstrip().startswith("<") else "MalformedJson"
        raise FetchError(kind, "the body is not JSON", retryable=True) from None
