"""Fetching over HTTP for the real providers: retries with jittered backoff (tenacity), a time
budget per request that covers connecting, headers and body alike, and a deadline for the whole
tick. Every requested symbol comes back as exactly one raw line: the response body exactly as
received, or an error entry — nothing is dropped, whatever a response holds.

A raw line from an HTTP provider is an envelope:
    {"fetch": {"provider", "symbol", "status", "at", "attempts"[, "error"][, "redacted"]},
     "body": "<text>"}
Curation hands the body to the provider's parser; an envelope with an `error` is counted as a
provider error, not a record. The one change ever made to a body is the redaction of a secret
the provider echoed back (an API key, in any spelling that decodes to it), flagged by
`"redacted": true`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import tenacity

from marketdata_assets.operations.time_budget import FETCH_DEADLINE_S
from marketdata_assets.providers.deadlines import request_deadline

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
REDACTED = "[REDACTED]"
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
    workers: int = 8  # symbols fetched at once (httpx clients are thread-safe)


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


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """A function replacing with REDACTED every spelling of each secret that decodes to it."""
    spellings = [_spellings(secret) for secret in secrets if secret]

    def redact(text: str) -> str:
        for spelling in spellings:
            text = spelling.redact(text)
        return text

    return redact


@functools.lru_cache(maxsize=16)  # a process has a key or two; building one costs ~10 ms
def _spellings(secret: str) -> _Spellings:
    return _Spellings(secret)


class _Spellings:
    """One secret's spellings (see `secret_spellings`), each pattern searched on its own (a
    pattern that starts with a character class is searched fast). A base64 spelling's first
    character, which holds only some of the secret's bits, is matched by looking back from the
    characters that hold only its bits: an optional first class would slow every search."""

    def __init__(self, secret: str):
        self.patterns = [(re.compile(branch), lead) for branch, lead in _branches(secret)]

    def redact(self, text: str) -> str:
        for pattern, lead in self.patterns:
            parts: list[str] = []
            last = 0
            for match in pattern.finditer(text):
                start = match.start()
                if start > last and text[start - 1] in lead:
                    start -= 1
                parts += (text[last:start], REDACTED)
                last = match.end()
            if parts:
                text = "".join(parts) + text[last:]
        return text


def secret_spellings(secret: str) -> re.Pattern[str]:
    """Every spelling of `secret` a reader could decode back to it, in any case of its letters
    (the key echoed case-folded): each character written literally, as a JSON escape
    (`\\u0053`), percent-encoded (`%53`) or as an HTML character reference (`&#83;`, `&#x53;`,
    the `;` optional where the next character cannot extend the number), in any mix; its bytes
    in hex; and its bytes in base64, standard or URL-safe, at each of the three alignments it can
    have inside a longer payload (the characters that hold only some of its bits included).
    Hex digits are matched in either case. No spelling needs `+` for a space: the characters
    are matched one by one, and `+` stands only for a space, which no key holds."""
    return re.compile(
        "|".join(
            f"(?:[{re.escape(lead)}]?{branch})" if lead else f"(?:{branch})"
            for branch, lead in _branches(secret)
        )
    )


def _branches(secret: str) -> list[tuple[str, str]]:
    """Each family's pattern, with the characters that may precede it as part of the spelling
    (a base64 spelling's partial first character; as a pattern, `[...]?`, in `secret_spellings`)."""
    variants = [_case_variants(byte) for byte in secret.encode("utf-8", "surrogatepass")]
    return [
        ("".join(_char_spellings(char) for char in secret), ""),
        ("".join(_hex_spelling(v) for v in variants), ""),
        *(_base64_spelling(variants, align) for align in range(3)),
    ]


def _hex_spelling(cases: frozenset[int]) -> str:
    """A byte's cases in hex, digits in either case, as two classes (a pattern that starts with
    a class is searched fast): the cases differ in the high digit only."""
    highs = "".join(sorted({f"{byte >> 4:x}" for byte in cases}))
    (low,) = {f"{byte & 0xF:x}" for byte in cases}
    return f"[{highs}]" + _hex(low)


def _case_variants(byte: int) -> frozenset[int]:
    """The byte, and its other case if it is an ASCII letter."""
    letter = 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A
    return frozenset({byte, byte ^ 0x20} if letter else {byte})


def _char_spellings(char: str) -> str:
    cases = dict.fromkeys(c for c in (char, char.lower(), char.upper()) if len(c) == 1)
    return "(?:" + "|".join(form for case in cases for form in _forms(case)) + ")"


def _forms(char: str) -> list[str]:
    code = ord(char)
    units = [code] if code <= 0xFFFF else [0xD800 + ((code - 0x10000) >> 10),
                                           0xDC00 + ((code - 0x10000) & 0x3FF)]  # fmt: skip
    return [
        re.escape(char),
        "".join(r"\\u" + _hex(f"{unit:04x}") for unit in units),
        "".join("%" + _hex(f"{byte:02x}") for byte in char.encode("utf-8", "surrogatepass")),
        f"&#0*{code}(?:;|(?![0-9]))",
        "&#[xX]0*" + _hex(f"{code:x}") + "(?:;|(?![0-9A-Fa-f]))",
    ]


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_BASE64_62, _BASE64_63 = "+-", "/_"  # standard, URL-safe


def _base64_spelling(variants: Sequence[frozenset[int]], align: int) -> tuple[str, str]:
    """The base64 characters that carry these bytes' bits when they start `align` bytes into a
    3-byte group: each a class of the characters whose bits agree with some case of the bytes,
    the partial last one optional (the payload may end with the secret); and the characters the
    partial first one may be (none at alignment 0)."""
    first_bit, end_bit = 8 * align, 8 * (align + len(variants))
    parts, lead = [], ""
    for index in range(first_bit // 6, -(-end_bit // 6)):
        bits = range(6 * index, 6 * index + 6)
        chars = "".join(_base64_chars(v) for v in sorted(_digit_values(variants, bits, first_bit)))
        if bits.start < first_bit:
            lead = chars
        else:
            parts.append(f"[{re.escape(chars)}]" + ("?" if bits.stop > end_bit else ""))
    return "".join(parts), lead


def _digit_values(variants: Sequence[frozenset[int]], bits: range, first_bit: int) -> set[int]:
    """The values of a base64 digit covering stream `bits` that agree with some case of each
    byte it touches; its bits outside the bytes take any value."""
    inside = [(5 - offset, bit - first_bit) for offset, bit in enumerate(bits)
              if 0 <= bit - first_bit < 8 * len(variants)]  # fmt: skip
    free = [5 - offset for offset in range(6) if 5 - offset not in {s for s, _ in inside}]
    touched = sorted({position // 8 for _, position in inside})
    values = set()
    for cases in itertools.product(*(variants[index] for index in touched)):
        byte = dict(zip(touched, cases, strict=True))
        fixed = sum(((byte[p // 8] >> (7 - p % 8)) & 1) << shift for shift, p in inside)
        for mask in range(1 << len(free)):
            values.add(fixed | sum(((mask >> j) & 1) << shift for j, shift in enumerate(free)))
    return values


def _base64_chars(value: int) -> str:
    return _BASE64[value] if value < 62 else (_BASE64_62, _BASE64_63)[value - 62]


def _hex(digits: str) -> str:
    """A regex matching these hex digits in either case."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


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
