"""`marketdata`: run a tick, show the latest prices, list quarantined rows, read the history,
list recent ticks."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from marketdata_assets.errors import ConfigError
from marketdata_assets.market.calendar import EXCHANGE_TZ
from marketdata_assets.market.records import INTERVALS
from marketdata_assets.market.symbols import check_symbol
from marketdata_assets.market.ticks import floor_minute, parse_tick
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_assets.settings import Settings, StorageSettings, parse_symbols

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from marketdata_assets.history.query import History

# Settings a tick flag overrides -> the flag, so errors name what the user typed.
TICK_FLAGS = {
    "provider": "--provider",
    "symbols": "--symbols",
    "fault_rate": "--fault-rate",
    "seed": "--seed",
    "source": "--source",
}
T = TypeVar("T")
# Dagster's console stays quiet unless MARKETDATA_LOG_LEVEL asks for it: the CLI prints its own
# summary, or one error line that names the step and the cause.
QUIET = "CRITICAL"
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The forecasting's horizons (forecasting.panel.HORIZONS, which imports pandas): checked first.
FORECAST_HORIZONS = ("1m", "5m", "15m", "1d")


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
    # Flag values stay text here: Settings checks them by the same rules as the environment.
    tick.add_argument("--fault-rate", help="stub: share of records given a defect, 0 to 1")
    tick.add_argument("--seed", help="stub: random seed, 0 to 2**32-1")
    tick.add_argument("--json", action="store_true", help="print one JSON object")

    latest = commands.add_parser("latest", help="show the latest-price table")
    latest.add_argument("--json", action="store_true", help="print a JSON list")

    quarantine = commands.add_parser("quarantine", help="list quarantined rows")
    quarantine.add_argument("--tick", help="only this tick minute")
    quarantine.add_argument("--json", action="store_true", help="print a JSON list")

    bars = commands.add_parser("bars", help="show a symbol's bars from the history")
    bars.add_argument(
        "--interval", default="1m", help=f"one of {', '.join(INTERVALS)} (default: 1m)"
    )
    analytics = commands.add_parser("analytics", help="show a symbol's session analytics")
    first_default = {
        bars: "--to; at 1d the 5th session up to --to",
        analytics: "the 5th session up to --to",
    }
    for command, default in first_default.items():
        # Values stay text here: checked by the platform's rules, one error line each.
        command.add_argument("symbol", metavar="SYMBOL", help="a ticker symbol, e.g. AAPL")
        command.add_argument(
            "--from", dest="first", metavar="YYYY-MM-DD", help=f"first session (default: {default})"
        )
        command.add_argument(
            "--to",
            dest="last",
            metavar="YYYY-MM-DD",
            help="last session (default: the latest held)",
        )
        command.add_argument("--json", action="store_true", help="print a JSON list")

    backfill = commands.add_parser(
        "backfill", help="run the history over the NYSE sessions of a range (resumable)"
    )
    backfill.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    backfill.add_argument("--symbols", help="comma-separated symbols (default: MARKETDATA_SYMBOLS)")
    backfill.add_argument(
        "--provider", help="stub, yahoo, alphavantage or file (default: MARKETDATA_PROVIDER)"
    )
    backfill.add_argument("--source", help="file: a CSV or Parquet file of bars")
    backfill.add_argument(
        "--force", action="store_true", help="redo sessions (and symbols) already done"
    )
    backfill.add_argument("--json", action="store_true", help="print one JSON object")

    forecast = commands.add_parser(
        "forecast", help="forecast a symbol's price, judged out of sample against naive"
    )
    forecast.add_argument("symbol", metavar="SYMBOL", help="a ticker symbol, e.g. AAPL")
    forecast.add_argument(
        "--horizon", default="5m", help="1m, 5m, 15m or 1d (the next session's close; default: 5m)"
    )
    forecast.add_argument("--json", action="store_true", help="print one JSON object")

    status = commands.add_parser(
        "status", help="list recent ticks (Lambda and CLI) from their run records"
    )
    status.add_argument("--last", default="20", help="how many ticks, newest first (default: 20)")
    status.add_argument(
        "--sync",
        action="store_true",
        help="first report the records not yet reported into the Dagster instance at DAGSTER_HOME",
    )
    status.add_argument("--json", action="store_true", help="print a JSON list")

    serve = commands.add_parser("serve", help="serve the dashboard (read-only) over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", default="8000", help="port to bind, 1 to 65535 (default: 8000)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "tick":
            return _tick(args, Settings.from_env())
        # The read commands read only where the data lives: a bad tick setting cannot stop them.
        if args.command == "latest":
            return _latest(args, StorageSettings.from_env())
        if args.command == "bars":
            return _bars(args, StorageSettings.from_env())
        if args.command == "analytics":
            return _analytics(args, StorageSettings.from_env())
        if args.command == "backfill":
            return _backfill(args, Settings.from_env())
        if args.command == "forecast":
            return _forecast(args, StorageSettings.from_env())
        if args.command == "serve":
            return _serve(args, StorageSettings.from_env())
        if args.command == "status":
            return _status(args, StorageSettings.from_env())
        return _quarantine(args, StorageSettings.from_env())
    except ConfigError as error:
        return _fail(error, 2)
    except BrokenPipeError:  # `marketdata latest | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _fail(error: Exception, code: int) -> int:
    message = " ".join(str(error).split())  # one line, whatever the cause's text held
    print(f"marketdata: error: {message}", file=sys.stderr)
    return code


def _tick(args: argparse.Namespace, settings: Settings) -> int:
    # Every input is checked before Dagster or Great Expectations is imported (seconds) and
    # before anything is written.
    origin = RunOrigin("cli")
    tick = parse_tick(args.at) if args.at else floor_minute(datetime.now(UTC))
    flags = {field: getattr(args, field) for field in TICK_FLAGS}
    settings = settings.with_overrides(TICK_FLAGS, **flags)
    if "log_level" not in settings.model_fields_set:
        settings = settings.with_overrides(log_level=QUIET)
    _check_provider(settings)
    instance = _instance()
    _check_writable(settings)

    from marketdata_assets.execution.tick import TickFailed, run_tick

    try:
        summary = run_tick(settings, tick, instance, origin)
    except TickFailed as error:
        return _fail(error, 1)
    if args.json:
        print(json.dumps(summary.as_dict()))
    else:
        print(_summary_line(summary.as_dict()))
        if summary.reasons:
            reasons = ", ".join(f"{code} {count}" for code, count in summary.reasons.items())
            print(f"quarantined by reason: {reasons} (see `marketdata quarantine`)")
    return 0


def _summary_line(summary: dict[str, object]) -> str:
    stale = summary.get("latest_stale", 0)
    return (
        f"tick {summary['tick']}: {summary['raw']} raw, {summary['validated']} validated, "
        f"{summary['quarantined']} quarantined, {summary['latest_updated']} latest prices updated"
        + (f" ({stale} stale: the table already held these or newer prices)" if stale else "")
        + (f", {summary['provider_errors']} provider errors" if summary["provider_errors"] else "")
    )


def _check_provider(settings: Settings) -> None:
    """Build the provider as a run would (its key looked up), and check a replay source exists."""
    from marketdata_assets import stores
    from marketdata_assets.providers import make_provider

    make_provider(
        settings.provider,
        settings.symbols,
        seed=settings.seed,
        fault_rate=settings.fault_rate,
        source=settings.source,
        budget=stores.request_budget(settings, settings.provider)
        if settings.provider == "alphavantage"
        else None,
        key_param=settings.alphavantage_key_param,
    )
    if settings.provider == "replay" and settings.source and settings.source.startswith("s3://"):
        _check_s3_object(settings.source)


def _check_s3_object(uri: str) -> None:
    """A replay source in S3 must exist (HeadObject), so a typo is bad input, not a failed run."""
    from botocore.exceptions import BotoCoreError, ClientError

    from marketdata_assets.lake.aws import client, describe

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        status = error.response.get("Error", {}).get("Code", "")
        reason = "no such object" if status in ("404", "NoSuchKey") else describe(error)
        raise ConfigError(f"--source {uri!r}: S3 HeadObject failed: {reason}") from None
    except BotoCoreError as error:
        raise ConfigError(f"--source {uri!r}: S3 HeadObject failed: {error}") from None


def _latest(args: argparse.Namespace, settings: StorageSettings) -> int:
    from marketdata_assets.tick.views import latest_rows, latest_table

    rows = _read(lambda: latest_rows(settings))
    if rows is None:
        return 1
    print(json.dumps(rows, allow_nan=False) if args.json else latest_table(rows))
    return 0


def _status(args: argparse.Namespace, settings: StorageSettings) -> int:
    """Recent ticks from their run records; with --sync, new records reported to Dagster first
    (through the sensor's code). Without --sync neither Dagster nor GE is imported."""
    if not (args.last.isdigit() and int(args.last) >= 1):
        raise ConfigError(f"--last {args.last!r}: must be a whole number of at least 1")
    from marketdata_assets import stores
    from marketdata_assets.operations import run_records

    store = stores.lake_store(settings)
    if args.sync:
        if not os.environ.get("DAGSTER_HOME"):
            raise ConfigError(
                "DAGSTER_HOME: must be set for --sync (the Dagster instance to report into)"
            )
        instance = _instance()
        assert instance is not None  # DAGSTER_HOME is set
        from marketdata_assets.defs.sensors import sync

        reported = _read(lambda: sync(instance, store))
        if reported is None:
            return 1
        plural = "" if reported == 1 else "s"
        home = os.environ["DAGSTER_HOME"]
        print(f"{reported} new run record{plural} reported to {home}", file=sys.stderr)
    records = _read(lambda: run_records.recent(store, int(args.last)))
    if records is None:
        return 1
    if args.json:
        print(json.dumps([run_records.status_row(r) for r in records]))
    else:
        print(run_records.status_table(records))
    return 0


def _quarantine(args: argparse.Namespace, settings: StorageSettings) -> int:
    from marketdata_assets.tick.views import quarantine_records, quarantine_table

    tick = parse_tick(args.tick, "--tick") if args.tick else None
    records = _read(lambda: quarantine_records(settings, tick))
    if records is None:
        return 1
    print(json.dumps(records, allow_nan=False) if args.json else quarantine_table(records))
    return 0


def _bars(args: argparse.Namespace, settings: StorageSettings) -> int:
    symbol, first, last = _history_range(args)
    if args.interval not in INTERVALS:
        raise ConfigError(f"--interval {args.interval!r}: must be one of {', '.join(INTERVALS)}")
    from marketdata_assets.history import query

    history = _read(lambda: query.bars(settings, symbol, args.interval, first, last))
    return _print_history(args, history, query.bars_table)


def _analytics(args: argparse.Namespace, settings: StorageSettings) -> int:
    symbol, first, last = _history_range(args)
    from marketdata_assets.history import query

    history = _read(lambda: query.analytics(settings, symbol, first, last))
    return _print_history(args, history, query.analytics_table)


def _backfill(args: argparse.Namespace, settings: Settings) -> int:
    # Every input is checked, and the plan made, before anything is written.
    first, last = _day(args.first, "--from"), _day(args.last, "--to")
    assert first and last  # both flags are required
    symbols = list(parse_symbols(args.symbols, "--symbols")) if args.symbols else None
    if "log_level" not in settings.model_fields_set:
        settings = settings.with_overrides(log_level=QUIET)
    provider = args.provider or settings.provider
    _check_writable(settings)
    instance = _instance()

    from marketdata_assets.execution import backfill

    plan = backfill.plan(settings, first, last, symbols, provider, args.source, args.force)
    if plan.sessions and not plan.todo:
        print(
            f"all {len(plan.sessions)} sessions are done for {', '.join(plan.symbols)}: "
            "nothing to run (--force redoes them)",
            file=sys.stderr,
        )
    summary = backfill.run(settings, plan, instance, sys.stderr, args.force)
    if args.json:
        print(json.dumps(summary.as_dict()))
        for note in backfill.shown_notes(summary.notes):
            print(f"marketdata: note: {note}", file=sys.stderr)
    else:
        print(backfill.summary_text(summary, plan))
    return 1 if summary.failed else 0


def _forecast(args: argparse.Namespace, settings: StorageSettings) -> int:
    # Every input is checked before pandas, a model library or the lake is touched.
    symbol = check_symbol(args.symbol.strip().upper(), "SYMBOL")
    if args.horizon not in FORECAST_HORIZONS:
        raise ConfigError(
            f"--horizon {args.horizon!r}: must be one of {', '.join(FORECAST_HORIZONS)}"
        )
    from marketdata_assets.forecasting.evaluation import sessions_needed
    from marketdata_assets.forecasting.panel import NotEnoughHistory, load_panel
    from marketdata_assets.forecasting.serving import ORIGINS, forecast

    panel = _read(lambda: load_panel(settings, [symbol], None, sessions_needed(ORIGINS)))
    if panel is None:
        return 1
    try:
        served = forecast(panel, symbol, args.horizon)
    except NotEnoughHistory as error:  # a missing prerequisite, not bad input: exit 1
        return _fail(error, 1)
    print(json.dumps(served, allow_nan=False) if args.json else _forecast_text(served))
    return 0


def _forecast_text(served: dict[str, Any]) -> str:
    """The verdict in words, the forecast, then each model's out-of-sample skill (naive first)."""
    from marketdata_assets.forecasting.serving import horizon_words
    from marketdata_assets.tick.views import forecast_verdict, p_value_text

    model, ahead = served["served_model"], horizon_words(served["horizon"])
    verdict = forecast_verdict(served)
    origin = datetime.fromisoformat(served["origin"]).astimezone(ZoneInfo(EXCHANGE_TZ))
    # Minute horizons count trading minutes: from a close they reach into the next session.
    target = ahead if served["horizon"] == "1d" else f"{ahead} of trading later"
    lines = [
        verdict,
        f"why: {served['reason']}",
        f"{model} forecast made at {origin:%Y-%m-%d %H:%M} ET for {target}: "
        f"{served['forecast']:.4f} (80 % interval {served['lower']:.4f} to {served['upper']:.4f})",
        f"{'MODEL':<15}{'MAE':>9}{'RMSE':>9}{'MASE':>7}{'REL.MAE':>9}{'SKILL':>8}"
        f"{'DIRECTION ± SE':>17}{'DM P':>8}{'COVERAGE':>10}",
    ]
    for row in served["skill"]:
        accuracy, error = row["directional_accuracy"], row["directional_accuracy_se"]
        direction = "-" if accuracy is None else f"{accuracy:.1%} ± {error:.1%}"
        lines.append(
            f"{row['model']:<15}{row['mae']:>9.4f}{row['rmse']:>9.4f}{row['mase']:>7.2f}"
            f"{row['relative_mae']:>9.4f}{1 - row['relative_mae']:>8.1%}{direction:>17}"
            f"{p_value_text(row['dm_pvalue']):>8}{row['coverage']:>10.1%}"
        )
    return "\n".join(lines)


def _serve(args: argparse.Namespace, settings: StorageSettings) -> int:
    """Bind the address first (a bad host or port is one line), then run the app on it."""
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
        return _fail(OSError(f"cannot listen on {args.host}:{port}: {error.strerror}"), 1)
    import uvicorn

    from marketdata_assets.web.app import create_app

    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"dashboard on http://{shown}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    config = uvicorn.Config(create_app(settings), log_level="warning")
    # uvicorn shuts down gracefully on Ctrl-C, then raises it again: stopping is no error.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[listener])
    return 0


def _history_range(args: argparse.Namespace) -> tuple[str, date | None, date | None]:
    """The symbol and dates of a history read, checked before DuckDB or pyarrow is imported."""
    symbol = check_symbol(args.symbol.strip().upper(), "SYMBOL")
    first, last = _day(args.first, "--from"), _day(args.last, "--to")
    if first and last and first > last:
        raise ConfigError(f"--from {args.first!r}: must be on or before --to {args.last!r}")
    return symbol, first, last


def _print_history(
    args: argparse.Namespace, history: History | None, table: Callable[[History], str]
) -> int:
    if history is None:
        return 1
    print(json.dumps(history.rows, allow_nan=False) if args.json else table(history))
    return 0


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    if DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ConfigError(f"{flag} {text!r}: must be a date YYYY-MM-DD")


def _read(read: Callable[[], T]) -> T | None:
    """What `read` returns; a storage failure (a missing bucket or table) is one error line."""
    try:
        return read()
    except RuntimeError as error:
        # Imported only here: the local read path needs no botocore.
        from marketdata_assets.lake.s3 import LakeError
        from marketdata_assets.latest.dynamodb import StoreError

        if not isinstance(error, LakeError | StoreError):
            raise
        _fail(error, 1)
        return None


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
    if not Path(home).is_dir():
        raise ConfigError(f"DAGSTER_HOME {home!r}: not a folder; create it or unset it")
    from dagster import DagsterInstance

    return DagsterInstance.get()


if __name__ == "__main__":
    sys.exit(main())
