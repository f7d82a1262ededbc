"""What every command shares: the parser's error line, one-line failures, storage reads, the
Dagster instance and the data folder's check."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from marketdata_assets.errors import ConfigError
from marketdata_assets.settings import dagster_home
from marketdata_assets.stores import check_writable as check_writable  # a command's first check

if TYPE_CHECKING:
    from dagster import DagsterInstance

T = TypeVar("T")
# The subcommands' registry: each command module adds its parsers to it.
Commands = argparse._SubParsersAction
# Dagster's console stays quiet unless MARKETDATA_LOG_LEVEL asks for it: the CLI prints its own
# summary, or one error line that names the step and the cause.
QUIET = "CRITICAL"


class Parser(argparse.ArgumentParser):
    """A parser whose usage errors end by pointing at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def command(commands: Commands, name: str, summary: str, example: str) -> argparse.ArgumentParser:
    """A subcommand: `summary` is its line in `marketdata --help` and the description of its own
    `--help`, which ends with `example` (a command that works as written)."""
    return commands.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}.",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def fail(error: Exception, code: int) -> int:
    """Print `error` as one line on stderr and return the exit code."""
    message = " ".join(str(error).split())  # one line, whatever the cause's text held
    print(f"marketdata: error: {message}", file=sys.stderr)
    return code


def read(read: Callable[[], T]) -> T | None:
    """What `read` returns; a storage failure (a missing bucket or table) is one error line."""
    try:
        return read()
    except RuntimeError as error:
        # Imported only here: the local read path needs no botocore.
        from marketdata_assets.lake import LakeError
        from marketdata_assets.latest.dynamodb import StoreError

        if not isinstance(error, LakeError | StoreError):
            raise
        fail(error, 1)
        return None


def instance() -> DagsterInstance | None:
    """The persistent instance when DAGSTER_HOME is set (runs show in `dagster dev`)."""
    home = dagster_home()
    if not home:
        return None
    if not Path(home).is_dir():
        raise ConfigError(f"DAGSTER_HOME {home!r}: not a folder; create it or unset it")
    from dagster import DagsterInstance

    return DagsterInstance.get()
