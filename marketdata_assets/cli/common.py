"""What every command shares: the parser's error line, one-line failures, storage reads, the
Dagster instance and the data folder's check."""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from marketdata_assets.errors import ConfigError
from marketdata_assets.settings import StorageSettings, dagster_home, dagster_home_given
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


def instance(settings: StorageSettings) -> DagsterInstance:
    """The persistent Dagster instance the CLI's runs are recorded in: DAGSTER_HOME's, else
    `.dagster_home` beside the data folder (made when missing), the one `make dev` shows. A
    folder without a dagster.yaml gets the project's (telemetry off), so Dagster warns of none."""
    home = dagster_home(settings.data_dir)
    if dagster_home_given() and not home.is_dir():
        raise ConfigError(f"DAGSTER_HOME {str(home)!r}: not a folder; create it or unset it")
    try:
        home.mkdir(parents=True, exist_ok=True)
        held = open(home / ".instance.lock", "a+")  # noqa: SIM115 (closed below)
    except OSError as error:
        raise ConfigError(
            f"Dagster instance folder {str(home)!r}: not writable ({error.strerror}); "
            "set DAGSTER_HOME to a folder that is"
        ) from None
    # Two commands started together would both write the yaml and create the instance's SQLite
    # tables: one at a time, the first makes them and the second finds them.
    with held:
        fcntl.flock(held, fcntl.LOCK_EX)
        return _opened(home)


def _opened(home: Path) -> DagsterInstance:
    from dagster import DagsterInstance

    config = home / "dagster.yaml"
    if not config.exists():
        project = resources.files("marketdata_assets") / "dagster.yaml"
        partial = home / f".dagster.yaml.{os.getpid()}"
        partial.write_bytes(project.read_bytes())
        partial.replace(config)
    # from_config: DagsterInstance.get() would read DAGSTER_HOME itself, and it may be unset.
    instance = DagsterInstance.from_config(str(home.resolve()))
    for storage in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
        assert storage is not None  # made now, inside the lock
    return instance
