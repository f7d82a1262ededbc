"""A scripted HTTP price provider on a loopback port, for the real HTTP client's tests."""

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from marketdata_tests.conftest import free_port

# (HTTP status, body, seconds before answering, how it is sent): False sends it at once; True
# (or "body") sends the headers, then the body in 20-byte pieces every 0.2 s; "headers" sends the
# status line and headers one byte every 0.5 s (about 75 s in all), then the body.
Reply = tuple[int, str, float, bool | str]

# How a body may echo the key the request carried: as is, or in spellings that decode to it.
ECHOES: dict[str, Callable[[str], str]] = {
    "{apikey}": lambda key: key,
    "{apikey:json}": lambda key: "".join(f"\\u{ord(c):04X}" for c in key),
    "{apikey:json-lower}": lambda key: "".join(f"\\u{ord(c):04x}" for c in key),
    "{apikey:json-mixed}": lambda key: "".join(
        (c, f"\\u{ord(c):04x}", f"\\u{ord(c):04X}")[i % 3] for i, c in enumerate(key)
    ),
    "{apikey:percent}": lambda key: "".join(f"%{ord(c):02X}" for c in key),
    "{apikey:any-mix}": lambda key: "".join(
        (c, f"%{ord(c):02x}", f"\\u{ord(c):04X}")[i % 3] for i, c in enumerate(key)
    ),
    # The key inside a longer base64 payload, starting 0, 1 or 2 bytes into a 3-byte group.
    **{
        f"{{apikey:base64-{align}}}": (
            lambda key, align=align: base64.b64encode(
                b"#" * align + b'{"apikey":"' + key.encode() + b'"}'
            ).decode()
        )
        for align in range(3)
    },
    "{apikey:base64url}": lambda key: base64.urlsafe_b64encode(b"?k=" + key.encode()).decode(),
    "{apikey:hex}": lambda key: key.encode().hex().upper(),
    "{apikey:lower}": lambda key: key.lower(),
    "{apikey:html}": lambda key: "".join(f"&#{ord(c)}" for c in key),  # no `;`
}


class ProviderServer(ThreadingHTTPServer):
    """Answers each symbol from its list of replies (the last one repeats), else `default`.
    A body's `{apikey}` becomes the key the request carried, as providers echo it back (and
    `{apikey:json}` etc. a spelling of it, see ECHOES). Records the symbol and the query of
    every request it receives, and the symbols whose reply the client hung up on mid-way
    (`cut_off`) or read to the end (`completed`).

    Counts the requests in flight (received, not yet answered) and keeps their maximum
    (`most_in_flight`); given a `gate` (a barrier), every request waits at it before being
    answered, so the test decides how many are in flight at once, not timing. With
    `keep_alive` it speaks HTTP/1.1 and keeps connections open between requests; `connections`
    counts the connections it accepted."""

    # The connections a fetch opens at once wait in the listen backlog, not in SYN retries.
    request_queue_size = 256

    def __init__(self, symbol_of: Callable[[str, dict[str, str]], str],
                 default: Callable[[str], str], *, keep_alive: bool = False,
                 port: int = 0) -> None:  # fmt: skip
        handler = _KeepAliveHandler if keep_alive else _Handler
        super().__init__(("127.0.0.1", port or free_port()), handler)
        self.symbol_of, self.default = symbol_of, default
        self.answers: dict[str, list[Reply]] = {}
        self.requests: list[str] = []
        self.queries: list[dict[str, str]] = []
        self.cut_off: list[str] = []
        self.completed: list[str] = []
        self.lock = threading.Lock()
        self._idle = threading.Condition(self.lock)
        self._busy = 0  # requests being answered
        self.most_in_flight = 0
        self.connections = 0
        self.gate: threading.Barrier | None = None

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_idle(self) -> None:
        """Until no request is being answered (handler threads are daemons: closing the server
        does not wait for them), so `cut_off` and `completed` are final."""
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0)

    def reply(self, path: str) -> tuple[Reply, str]:
        parts = urlsplit(path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        symbol = self.symbol_of(parts.path, query)
        with self.lock:
            self.requests.append(symbol)
            self.queries.append(query)
            queue = self.answers.get(symbol, [(200, self.default(symbol), 0.0, False)])
            status, body, delay, trickle = queue.pop(0) if len(queue) > 1 else queue[0]
        for placeholder, spell in ECHOES.items():
            body = body.replace(placeholder, spell(query.get("apikey", "")))
        return (status, body, delay, trickle), symbol


class _Handler(BaseHTTPRequestHandler):
    server: ProviderServer

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server._busy += 1
            server.most_in_flight = max(server.most_in_flight, server._busy)
        try:
            if server.gate is not None:
                server.gate.wait()
            self._answer()
        finally:
            with self.server.lock:
                self.server._busy -= 1
                self.server._idle.notify_all()

    def _answer(self) -> None:
        (status, body, delay, trickle), symbol = self.server.reply(self.path)
        time.sleep(delay)
        data = body.encode()
        try:
            if trickle == "headers":  # a slow start: the headers themselves dribble
                self._send_headers_slowly(status, len(data))
            else:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
            if trickle in (True, "body"):  # a slow body: the headers arrive, the rest dribbles
                for i in range(0, len(data), 20):
                    self.wfile.write(data[i : i + 20])
                    self.wfile.flush()
                    time.sleep(0.2)
            else:
                self.wfile.write(data)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            with self.server.lock:
                self.server.cut_off.append(symbol)
            return
        with self.server.lock:
            self.server.completed.append(symbol)

    def _send_headers_slowly(self, status: int, length: int) -> None:
        head = (
            f"{self.protocol_version} {status} {self.responses[status][0]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        self.close_connection = True
        for i in range(len(head)):
            self.wfile.write(head[i : i + 1])
            self.wfile.flush()
            time.sleep(0.5)


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: with Nagle's algorithm on, a kept-alive
    # connection stalls each answer for the client's delayed ACK (40 ms on Linux).
    disable_nagle_algorithm = True


@contextmanager
def serving(server: ProviderServer) -> Iterator[ProviderServer]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def envelopes(payload: bytes) -> dict[str, dict]:
    """A raw payload's envelopes by symbol."""
    lines = [json.loads(line) for line in payload.decode().splitlines()]
    return {line["fetch"]["symbol"]: line for line in lines}
