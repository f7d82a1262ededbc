"""`marketdata`: run a tick, show the latest prices, list quarantined rows."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from marketdata_assets.errors import ConfigError
from marketdata_assets.settings import Settings, parse_symbols
from marketdata_assets.ticks import floor_minute, parse_tick

if TYPE_CHECKING:
    from dagster import DagsterInstance


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="marketdata", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    tick = commands.add_parser("tick", help="materialise one tick of tick_job in-process")
    tick.add_argument("--at", help="the tick minute, ISO-8601 with offset (default: now)")
    tick.add_argument("--symbols", help="comma-separated symbols (default: MARKETDATA_SYMBOLS)")
    tick.add_argument(
        "--provider", help="stub, replay, alphavantage or yahoo (default: MARKETDATA_PROVIDER)"
    )
    tick.add_argument("--source", help="replay: a JSON Lines file or s3://bucket/key")
    tick.add_argument("--fault-rate", type=float, help="stub: share of records given a defect")
    tick.add_argument("--seed", type=int, help="stub: random seed")
    tick.add_argument("--json", action="store_true", help="print one JSON object")

    latest = commands.add_parser("latest", help="show the latest-price table")
    latest.add_argument("--json", action="store_true", help="print a JSON list")

    quarantine = commands.add_parser("quarantine", help="list quarantined rows")
    quarantine.add_argument("--tick", help="only this tick minute")
    quarantine.add_argument("--json", action="store_true", help="print a JSON list")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "tick":
            return _tick(args, settings)
        if args.command == "latest":
            return _latest(args, settings)
        return _quarantine(args, settings)
    except ConfigError as error:
        print(f"marketdata: error: {error}", file=sys.stderr)
        return 2


def _tick(args: argparse.Namespace, settings: Settings) -> int:
    from marketdata_assets.definitions import configured_provider
    from marketdata_assets.runner import TickFailed, run_tick

    tick = parse_tick(args.at) if args.at else floor_minute(datetime.now(UTC))
    settings = settings.with_overrides(
        provider=args.provider,
        symbols=parse_symbols(args.symbols, "--symbols") if args.symbols is not None else None,
        fault_rate=args.fault_rate,
        seed=args.seed,
        source=args.source,
    )
    # Check every input (and find the provider's key) before anything is written.
    configured_provider(settings)
    instance = _instance()
    _check_writable(settings)
    try:
        summary = run_tick(settings, tick, instance)
    except TickFailed as error:
        print(f"marketdata: error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary.as_dict()))
    else:
        print(
            f"tick {summary.tick}: {summary.raw} raw, {summary.validated} validated, "
            f"{summary.quarantined} quarantined, {summary.latest_updated} latest prices updated"
            + (f", {summary.provider_errors} provider errors" if summary.provider_errors else "")
        )
        if summary.reasons:
            reasons = ", ".join(f"{code} {count}" for code, count in summary.reasons.items())
            print(f"quarantined by reason: {reasons} (see `marketdata quarantine`)")
    return 0


def _latest(args: argparse.Namespace, settings: Settings) -> int:
    from marketdata_assets.views import latest_rows, latest_table

    rows = latest_rows(settings)
    print(json.dumps(rows) if args.json else latest_table(rows))
    return 0


def _quarantine(args: argparse.Namespace, settings: Settings) -> int:
    from marketdata_assets.views import quarantine_records, quarantine_table

    tick = parse_tick(args.tick, "--tick") if args.tick else None
    records = quarantine_records(settings, tick)
    print(json.dumps(records) if args.json else quarantine_table(records))
    return 0


def _check_writable(settings: Settings) -> None:
    if settings.profile != "local":
        return
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ConfigError(
            f"MARKETDATA_DATA_DIR {str(folder)!r}: not a writable folder ({error.strerror})"
        ) from None


def _instance() -> DagsterInstance | None:
    """The persistent instance when DAGSTER_HOME is set (runs show in `dagster dev`)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return None
    if not os.path.isdir(home):
        raise ConfigError(f"DAGSTER_HOME {home!r}: not a folder; create it or unset it")
    from dagster import DagsterInstance

    return DagsterInstance.get()


if __name__ == "__main__":
    sys.exit(main())
