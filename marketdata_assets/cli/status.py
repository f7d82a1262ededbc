"""`marketdata status`: recent ticks (Lambda and CLI) from their run records."""

from __future__ import annotations

import argparse
import json
import sys

from marketdata_assets.cli.common import Commands, command, instance, read
from marketdata_assets.market import params
from marketdata_assets.settings import StorageSettings, dagster_home


def register(commands: Commands) -> None:
    """Add the `status` command."""
    status = command(
        commands,
        "status",
        "list recent ticks (Lambda and CLI) from their run records",
        "marketdata status --last 5 --json",
    )
    status.add_argument("--last", default="20", help="how many ticks, newest first (default: 20)")
    status.add_argument(
        "--sync",
        action="store_true",
        help="first report the records not yet reported into the Dagster instance (DAGSTER_HOME, "
        "else .dagster_home beside the data folder)",
    )
    status.add_argument("--json", action="store_true", help="print a JSON list")
    status.set_defaults(handler=_status)


def _status(args: argparse.Namespace) -> int:
    """Recent ticks from their run records; with --sync, new records reported to Dagster first
    (through the sensor's code). Without --sync neither Dagster nor GE is imported. An object
    that is no record is one warning line on stderr naming its key, and left out of the list."""
    settings = StorageSettings.from_env()
    last = params.at_least_one(args.last, "--last")
    from marketdata_assets import stores
    from marketdata_assets.operations import run_records

    store = stores.lake_store(settings)
    warned: set[str] = set()

    def warn_once(skipped: run_records.Skipped) -> None:  # --sync and the listing: one line
        if skipped.key not in warned:
            warned.add(skipped.key)
            run_records.warn(skipped)

    if args.sync:
        dagster_instance = instance(settings)
        from marketdata_assets.defs.sensors import sync

        reported = read(lambda: sync(dagster_instance, store, on_skip=warn_once))
        if reported is None:
            return 1
        plural = "" if reported == 1 else "s"
        home = dagster_home(settings.data_dir)
        print(f"{reported} new run record{plural} reported to {home}", file=sys.stderr)
    records = read(lambda: run_records.recent(store, last, on_skip=warn_once))
    if records is None:
        return 1
    if args.json:
        print(json.dumps([run_records.status_row(r) for r in records]))
    else:
        print(run_records.status_table(records))
    return 0
