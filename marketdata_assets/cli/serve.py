"""`marketdata serve`: the dashboard (read-only) over HTTP."""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys

from marketdata_assets.cli.common import Commands, command, fail
from marketdata_assets.errors import ConfigError
from marketdata_assets.settings import StorageSettings


def register(commands: Commands) -> None:
    """Add the `serve` command."""
    serve = command(
        commands,
        "serve",
        "serve the dashboard (read-only) over HTTP",
        "marketdata serve --port 8000",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", default="8000", help="port to bind, 1 to 65535 (default: 8000)")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    """Bind the address first (a bad host or port is one line), then run the app on it."""
    settings = StorageSettings.from_env()
    port = int(args.port) if args.port.isdigit() else 0
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {args.port!r}: must be a whole number from 1 to 65535")
    try:
        found = socket.getaddrinfo(args.host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ConfigError(f"--host {args.host!r}: not an address or a host name") from None
    family, kind, _, _, address = found[0]
    listener = socket.socket(family, kind)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as error:
        listener.close()
        return fail(OSError(f"cannot listen on {args.host}:{port}: {error.strerror}"), 1)
    import uvicorn

    from marketdata_assets.web.app import create_app

    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"dashboard on http://{shown}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    config = uvicorn.Config(create_app(settings), log_level="warning")
    # uvicorn shuts down gracefully on Ctrl-C, then raises it again: stopping is no error.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[listener])
    return 0
