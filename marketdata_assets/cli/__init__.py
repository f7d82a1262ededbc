"""`marketdata`: run a tick, show the latest prices, list quarantined rows, read the history,
list recent ticks."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from marketdata_assets.cli import (
    actions,
    cost,
    forecast,
    history,
    latest,
    serve,
    status,
    symbols,
    tick,
)
from marketdata_assets.cli.common import Parser, fail
from marketdata_assets.errors import ConfigError

# The command modules, in the order `--help` lists their commands.
COMMAND_MODULES = (tick, latest, symbols, history, actions, forecast, status, serve, cost)


def parser() -> argparse.ArgumentParser:
    """The `marketdata` parser, each command added by its module."""
    root = Parser(prog="marketdata", description=__doc__)
    root.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = root.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in COMMAND_MODULES:
        module.register(commands)
    return root


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("marketdata")
    except PackageNotFoundError:  # run from a source tree without installing it
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `marketdata` command; its exit code (2 for bad input, 1 for a failed step)."""
    args = parser().parse_args(argv)
    try:
        # Each command reads its own settings: a bad tick setting cannot stop a read command.
        code: int = args.handler(args)
        return code
    except ConfigError as error:
        return fail(error, 2)
    except BrokenPipeError:  # `marketdata latest | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
