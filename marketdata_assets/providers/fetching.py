"""Fetching over HTTP for the real providers: retries with jittered backoff (tenacity), a time
budget per request that covers connecting, headers and body alike, a deadline for the whole
tick, and at most `FetchPolicy.workers` requests in flight. Every requested symbol comes back
as exactly one raw line: the response body exactly as received, or an error entry — nothing
is dropped, whatever a response holds.

A raw line from an HTTP provider is an envelope:
    {"fetch": {"provider", "symbol", "status", "at", "attempts"[, "error"][, "redacted"]},
     "body": "<text>"}
Curation hands the body to the provider's parser; an envelope with an `error` is counted as a
provider error, not a record. The one change ever made to a body is the redaction of a secret
the provider echoed back (an API key, in any spelling that decodes to it), flagged by
`"redacted": true`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import tenacity

from marketdata_assets.operations.time_budget import FETCH_DEADLINE_S
from marketdata_assets.providers.deadlines import request_deadline
from marketdata_assets.providers.redaction import redactor

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
_DETAIL_CHARS = 200


class FetchError(Exception):
    """A symbol's fetch failed: `kind` names the failure; `retryable` says if trying helps."""

    def __init__(self, kind: str, detail: str, *, retryable: bool, status: int | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail, self.retryable, self.status = kind, detail, retryable, status


@dataclass(frozen=True)
class FetchPolicy:
    request_timeout_s: float = 5.0  # one request, connecting, headers and body included
    deadline_s: float = FETCH_DEADLINE_S  # the whole tick's fetching (see `time_budget`)
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    # Requests in flight at most, exactly: one thread each, sharing one client per fetch whose
    # transport keeps each thread's connection alive (`deadlines.transport(workers)`). The
    # tick's comes from the settings (MARKETDATA_FETCH_CONCURRENCY); this default is history's
    # and the tests'.
    workers: int = 8


@dataclass(frozen=True)
class Request:
    symbol: str
    url: str
    params: dict[str, str]


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as the checks see it."""

    status: int
    text: str


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
) -> bytes:
    """One envelope line per request, in order. `check` raises FetchError for a bad response.

    Nothing one request meets costs the others: a check that fails in an unforeseen way is an
    `UnexpectedBody` error, any other unforeseen failure an `UnexpectedError`, both for that
    symbol only. `secrets` never reach a body or an error text, in any encoding that decodes to
    them; `may_retry` is asked before every retry (a request budget says no when it has no
    request left). Give `client` a `transport()` so each request's budget covers its headers.
    """
    deadline = clock() + policy.deadline_s
    redact = redactor(secrets)
    attempts_spent = tenacity.stop_after_attempt(policy.max_attempts)

    def one(request: Request) -> str:
        meta: dict[str, object] = {"provider": provider, "symbol": request.symbol, "attempts": 0}
        body: str | None = None
        tries = 0

        def attempt() -> None:
            nonlocal body, tries
            remaining = deadline - clock()
            if remaining <= 0:
                raise FetchError(
                    "DeadlineExceeded", "the tick's fetch deadline passed", retryable=False
                )
            tries += 1
            meta["attempts"] = tries
            status, received = _fetch(client, request, min(policy.request_timeout_s, remaining))
            body = redact(received)
            meta["status"] = status
            if body != received:
                meta["redacted"] = True
            _checked(check, Answer(status, body))

        def stop(state: tenacity.RetryCallState) -> bool:
            """No retry after the last attempt, nor one whose pause would reach the deadline,
            nor one the budget refuses (asked last: a yes spends a request)."""
            return (
                attempts_spent(state)
                or clock() + state.upcoming_sleep >= deadline
                or not may_retry()
            )

        retrying = tenacity.Retrying(
            # Full jitter: uniform(0, min(max, base * 2 ** (attempt - 1))) before each retry.
            wait=tenacity.wait_random_exponential(
                multiplier=policy.backoff_base_s, max=policy.backoff_max_s
            ),
            stop=stop,
            retry=tenacity.retry_if_exception(lambda e: isinstance(e, FetchError) and e.retryable),
            sleep=sleep,
            reraise=True,  # the last FetchError itself, not tenacity's RetryError
        )
        try:
            retrying(attempt)
            meta.pop("error", None)
        except FetchError as error:
            meta["error"] = redact(str(error))
        except Exception as failure:  # a bug, a failing `may_retry`: this symbol's, not the tick's
            meta["error"] = f"UnexpectedError: {type(failure).__name__}"
        meta["at"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return json.dumps({"fetch": meta, "body": body}, separators=(",", ":"))

    with ThreadPoolExecutor(max_workers=policy.workers) as pool:
        lines = list(pool.map(one, requests))  # in request order
    return "".join(line + "\n" for line in lines).encode()


def _fetch(client: httpx.Client, request: Request, budget_s: float) -> tuple[int, str]:
    """`_get`, its failures typed: timeouts and transport errors are retryable, anything else
    (a bad charset name, a bug) is an `UnexpectedError` that retrying cannot fix."""
    try:
        return _get(client, request, budget_s)
    except httpx.TimeoutException:
        raise FetchError("Timeout", "no complete answer in time", retryable=True) from None
    except httpx.RequestError as failure:  # never str(failure): it may hold the URL
        raise FetchError("TransportError", type(failure).__name__, retryable=True) from None
    except Exception as failure:
        raise FetchError("UnexpectedError", type(failure).__name__, retryable=False) from None


def _checked(check: Callable[[Answer], None], answer: Answer) -> None:
    """`check(answer)`, total: whatever else it raises becomes a non-retryable FetchError, so an
    answer of a shape nobody foresaw costs its own symbol and nothing more."""
    try:
        check(answer)
    except FetchError:
        raise
    except Exception as failure:
        raise FetchError(
            "UnexpectedBody", f"the check failed ({type(failure).__name__})", retryable=False
        ) from None


def _get(client: httpx.Client, request: Request, budget_s: float) -> tuple[int, str]:
    """GET within `budget_s` in all: connecting, headers and body (see `deadlines`)."""
    started = time.monotonic()
    with (
        request_deadline(started + budget_s),
        client.stream("GET", request.url, params=request.params, timeout=budget_s) as response,
    ):
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if time.monotonic() - started > budget_s:  # for a client without `transport()`
                raise httpx.ReadTimeout("the body did not arrive in time")
        return response.status_code, _text(b"".join(chunks), response.encoding)


def _text(data: bytes, encoding: str | None) -> str:
    """The body as text in its declared charset, UTF-8 when it names none or an unknown one."""
    try:
        return data.decode(encoding or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def detail(message: object, limit: int | None = _DETAIL_CHARS) -> str:
    """A provider's message on one line, shortened to `limit` characters. Total."""
    try:
        text = " ".join(str(message).split())
    except (RecursionError, ValueError):  # a structure too deep to print, or a huge int
        text = type(message).__name__
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def check_status(response: Answer) -> None:
    """Retry 429 and 5xx; any other non-2xx is final."""
    if response.status == 429:
        raise FetchError("RateLimited", "HTTP 429", retryable=True, status=429)
    if response.status in RETRYABLE_STATUS:
        raise FetchError("ServerError", f"HTTP {response.status}", retryable=True)
    if response.status >= 400:
        raise FetchError("ClientError", f"HTTP {response.status}", retryable=False)


def json_body(response: Answer) -> object:
    """The response as JSON; truncated JSON or an HTML page is retryable, JSON nested deeper
    than Python's parser goes is not."""
    try:
        return json.loads(response.text)
    except RecursionError:
        raise FetchError("UnexpectedBody", "JSON nested too deeply", retryable=False) from None
    except ValueError:
        kind = "HtmlPage" if response.text.lstrip().startswith("<") else "MalformedJson"
        raise FetchError(kind, "the body is not JSON", retryable=True) from None
