"""Every AWS request this process makes, counted where botocore sends it: each HTTP attempt
(a retry is a request AWS bills too) by service and operation, with the bytes sent and
received, the bytes stored by S3 PutObject and the keys S3 listings returned. A tick reads the
counts before and after its run (`snapshot`, `since`): the runs of one process are sequential
(the Lambda runs one invocation at a time), while a run's own threads (DynamoDB's parallel
writes) are all counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_lock = threading.Lock()
_requests: Counter[str] = Counter()
_totals: Counter[str] = Counter()  # sent, received, stored (bytes); listed (keys)


@dataclass(frozen=True)
class Requests:
    """Counts over a span: requests per "service.Operation", and bytes."""

    requests: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    received: int = 0
    stored: int = 0  # the bodies S3 PutObject sent
    listed: int = 0  # the keys and folders S3 ListObjectsV2 answered with


def watch(client: Any) -> Any:
    """Count `client`'s requests from now on; returns it."""
    events = client.meta.events
    events.register("before-send", _sending, unique_id="marketdata-requests-sent")
    events.register("response-received", _received, unique_id="marketdata-requests-received")
    events.register(
        "provide-client-params.s3.PutObject", _storing, unique_id="marketdata-requests-stored"
    )
    events.register("after-call.s3.ListObjectsV2", _listing, unique_id="marketdata-requests-listed")
    return client


def snapshot() -> Requests:
    with _lock:
        return Requests(
            dict(_requests),
            _totals["sent"],
            _totals["received"],
            _totals["stored"],
            _totals["listed"],
        )


def since(before: Requests) -> Requests:
    """What was counted after `before` was taken."""
    now = snapshot()
    counts = Counter(now.requests)
    counts.subtract(before.requests)
    return Requests(
        {name: n for name, n in sorted(counts.items()) if n},
        now.sent - before.sent,
        now.received - before.received,
        now.stored - before.stored,
        now.listed - before.listed,
    )


def _operation(event_name: str) -> str:
    """ "before-send.s3.PutObject" -> "s3.PutObject"."""
    return ".".join(event_name.split(".")[1:3])


def _length(body: Any) -> int:
    if body is None:
        return 0
    try:
        return len(body)
    except TypeError:  # a stream: its headers declare its length
        return 0


# The length a message declares: plain, or of a chunked upload's decoded payload.
_LENGTHS = ("Content-Length", "content-length", "X-Amz-Decoded-Content-Length")


def _declared(headers: Any) -> int:
    """The payload length a message's headers declare (0 when none)."""
    for name in _LENGTHS:
        try:
            return int((headers or {})[name])
        except (KeyError, TypeError, ValueError):
            continue
    return 0


def _sending(request: Any = None, event_name: str = "", **_: Any) -> None:
    size = _declared(getattr(request, "headers", None)) or _length(getattr(request, "body", None))
    with _lock:
        _requests[_operation(event_name)] += 1
        _totals["sent"] += size


def _received(response_dict: Any = None, **_: Any) -> None:
    if not isinstance(response_dict, dict):
        return
    body = response_dict.get("body")
    size = _length(body) if isinstance(body, bytes) else _declared(response_dict.get("headers"))
    with _lock:
        _totals["received"] += size


def _storing(params: Any = None, **_: Any) -> None:
    body = params.get("Body") if isinstance(params, dict) else None
    with _lock:
        _totals["stored"] += _length(body)


def _listing(parsed: Any = None, **_: Any) -> None:
    if not isinstance(parsed, dict):
        return
    found = len(parsed.get("Contents") or ()) + len(parsed.get("CommonPrefixes") or ())
    with _lock:
        _totals["listed"] += found
