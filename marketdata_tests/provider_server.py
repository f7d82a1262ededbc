"""A scripted HTTP price provider on a loopback port, for the real HTTP client's tests."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from marketdata_tests.conftest import free_port

# (HTTP status, body, seconds before answering, whether the body trickles in 20-byte pieces)
Reply = tuple[int, str, float, bool]


class ProviderServer(ThreadingHTTPServer):
    """Answers each symbol from its list of replies (the last one repeats), else `default`.
    A body's `{apikey}` becomes the key the request carried, as providers echo it back.
    Records the symbol and the query of every request it receives."""

    def __init__(self, symbol_of: Callable[[str, dict[str, str]], str],
                 default: Callable[[str], str]) -> None:  # fmt: skip
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.symbol_of, self.default = symbol_of, default
        self.answers: dict[str, list[Reply]] = {}
        self.requests: list[str] = []
        self.queries: list[dict[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def reply(self, path: str) -> tuple[Reply, str]:
        parts = urlsplit(path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        symbol = self.symbol_of(parts.path, query)
        with self.lock:
            self.requests.append(symbol)
            self.queries.append(query)
            queue = self.answers.get(symbol, [(200, self.default(symbol), 0.0, False)])
            status, body, delay, trickle = queue.pop(0) if len(queue) > 1 else queue[0]
        body = body.replace("{apikey}", query.get("apikey", ""))
        return (status, body, delay, trickle), symbol


class _Handler(BaseHTTPRequestHandler):
    server: ProviderServer

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        (status, body, delay, trickle), _ = self.server.reply(self.path)
        time.sleep(delay)
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if trickle:  # a slow body: the headers arrive, the rest dribbles
                for i in range(0, len(data), 20):
                    self.wfile.write(data[i : i + 20])
                    self.wfile.flush()
                    time.sleep(0.2)
            else:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


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
