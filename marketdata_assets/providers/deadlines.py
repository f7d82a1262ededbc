"""A deadline per HTTP request that covers every stage of it: connecting, TLS, headers, body.

httpx's timeouts bound each socket operation, not the whole request: a server that sends its
headers one byte every 0.5 s resets the read timeout with each byte. So each worker thread notes
when its current request must be done (`request_deadline`), and the network backend below gives
every socket operation (connect, TLS, each write and read) at most the time left, raising
httpcore's own timeout once none is. No watchdog thread, no socket closed under another thread's
feet: the blocked call itself ends at the deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

_request = threading.local()


@contextmanager
def request_deadline(deadline: float) -> Iterator[None]:
    """Within this block, this thread's socket operations end by `deadline` (monotonic)."""
    _request.deadline = deadline
    try:
        yield
    finally:
        _request.deadline = None


def _time_left(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """`timeout` cut to what is left of this thread's request budget (None: no budget set)."""
    deadline: float | None = getattr(_request, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request's time budget is spent")
    return left if timeout is None else min(timeout, left)


class _BudgetStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _time_left(timeout, httpcore.ConnectTimeout)
        return _BudgetStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BudgetBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _time_left(timeout, httpcore.ConnectTimeout)
        return _BudgetStream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = _time_left(timeout, httpcore.ConnectTimeout)
        return _BudgetStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def transport(connections: int = 100) -> httpx.BaseTransport:
    """httpx's transport with httpx's defaults, over sockets that keep each request's budget,
    holding at most `connections` connections, kept alive between requests: give it the
    requests in flight (one thread each), so each thread reuses its connection through the
    tick instead of opening one a request.

    Each thread has a pool of its own (`PerThread`): httpcore's pool matches every queued
    request against every connection under one lock, so one pool shared by N threads costs
    O(N) per request and its CPU time grows with N (bench/README.md, "Fetch")."""
    ssl_context = httpx.create_ssl_context()  # ~20 ms each: one for every pool
    return PerThread(lambda: _pooled(ssl_context, 1), connections)


def _pooled(ssl_context: Any, connections: int) -> httpx.HTTPTransport:
    """A transport over its own pool (given the context, it loads no certificates: cheap)."""
    made = httpx.HTTPTransport(verify=ssl_context)
    # httpx has no public parameter for its pool's network backend: swap in the same pool as
    # httpx builds by default, plus the backend. (test_hostile_input's slow-headers test fails
    # should a new httpx stop honouring this.) A client built without this transport still
    # gets every socket operation bounded by httpx and the body bounded by `_get`.
    made._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=5.0,
        network_backend=_BudgetBackend(),
    )
    return made


class PerThread(httpx.BaseTransport):
    """A transport per calling thread, made on its first request; at most `threads` of them
    (a thread beyond that is a bug in the caller's concurrency: refused, not queued)."""

    def __init__(self, make: Callable[[], httpx.BaseTransport], threads: int):
        self._make, self._threads = make, threads
        self._local = threading.local()
        self._made: list[httpx.BaseTransport] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        own: httpx.BaseTransport | None = getattr(self._local, "transport", None)
        if own is None:
            with self._lock:
                if len(self._made) >= self._threads:
                    raise RuntimeError(f"more than {self._threads} threads share one transport")
                own = self._make()
                self._made.append(own)
            self._local.transport = own
        return own.handle_request(request)

    def close(self) -> None:
        with self._lock:
            made, self._made = self._made, []
        for own in made:
            own.close()
