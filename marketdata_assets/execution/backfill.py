"""`marketdata backfill`: history_job over the sessions of a range, resumable and idempotent.

"Done" is tracked per session and symbol in `history_done/date=…/part.json`, written only after
the session's run succeeded: a rerun redoes only the sessions (and symbols) not done, or that
failed; `--force` redoes them all. The run fetches only symbols its session's raw lacks (or that
failed at the provider), so adding symbols to sessions already done keeps what is there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

from dagster import DagsterInstance, ExecuteInProcessResult, JobDefinition

from marketdata_assets import stores
from marketdata_assets.defs.partitions import SESSIONS_PER_RUN, trading_sessions
from marketdata_assets.errors import ConfigError
from marketdata_assets.execution.tick import failure_line, instance_or_ephemeral
from marketdata_assets.lake import ObjectStore, day_key, read_if_present
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.market.calendar import closed_days, sessions_in
from marketdata_assets.providers.history import HistoryError, HistorySource, make_history_source
from marketdata_assets.settings import Settings

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@dataclass
class BackfillSummary:
    sessions: int = 0  # sessions run (the ones already done are not run again)
    rows: int = 0  # source rows read
    validated: int = 0
    quarantined: int = 0
    skipped: list[str] = field(default_factory=list)  # closed days in the range
    failed: list[dict[str, str]] = field(default_factory=list)  # {"session", "error"}
    provider_errors: int = 0  # symbol-sessions the provider did not deliver
    already_done: int = 0  # sessions with every requested symbol done before this run
    notes: list[str] = field(default_factory=list)  # what the source could not give, in words
    reasons: dict[str, int] = field(default_factory=dict)  # quarantined bars per reason code

    def as_dict(self) -> dict[str, object]:
        summary = asdict(self)
        del summary["already_done"], summary["notes"], summary["reasons"]
        return summary


@dataclass(frozen=True)
class Plan:
    provider: str
    source: str
    symbols: list[str]
    sessions: list[date]  # every session in the range
    todo: dict[date, list[str]]  # session -> symbols to run (sessions with none are left out)
    skipped: list[date]


def plan(
    settings: Settings,
    first: date,
    last: date,
    symbols: Sequence[str] | None,
    provider: str,
    source: str | None,
    force: bool,
) -> Plan:
    """What a backfill of `first`..`last` would run; bad input is a ConfigError (exit 2)."""
    if first > last:
        raise ConfigError(f"--from {first} is after --to {last}: the range must not be empty")
    completed = _last_partition()
    sessions = [s for s in sessions_in(first, last) if s <= completed]
    if not sessions:
        raise ConfigError(
            f"--from {first} --to {last}: no NYSE session in the range has ended "
            f"(sessions up to {completed} can be backfilled)"
        )
    history = _source(settings, provider, source, sessions[0])
    wanted = sorted(symbols or history.symbols() or settings.symbols)
    lake = stores.lake_store(settings)
    todo = {}
    for session in sessions:
        done = set() if force else _done(lake, session)
        missing = [symbol for symbol in wanted if symbol not in done]
        if missing:
            todo[session] = missing
    _check_budget(settings, provider, history, todo)
    return Plan(provider, source or "", wanted, sessions, todo, closed_days(first, last))


def run(
    settings: Settings,
    plan: Plan,
    instance: DagsterInstance | None = None,
    progress: IO[str] | None = None,
    force: bool = False,
) -> BackfillSummary:
    """Run history_job over the plan's sessions, a batch of consecutive sessions per run."""
    summary = BackfillSummary(
        skipped=[day.isoformat() for day in plan.skipped],
        already_done=len(plan.sessions) - len(plan.todo),
    )
    lake = stores.lake_store(settings)
    bar = _Progress(len(plan.todo), progress)
    job = _job(settings)
    with instance_or_ephemeral(instance) as active:
        for batch in _batches(plan):
            _record(_execute(job, settings, plan, batch, force, active), batch, plan, lake, summary)
            bar.advance(len(batch), summary.rows)
    bar.close()
    return summary


@dataclass(frozen=True)
class BatchOutcome:
    """What one run of a batch left: its error (None when it succeeded) and, per session, the
    bars gate's counts."""

    error: str | None
    sessions: dict[str, Any]


def _job(settings: Settings) -> JobDefinition:
    from marketdata_assets.definitions import build_definitions

    return build_definitions(settings).resolve_job_def("history_job")


def _execute(
    job: JobDefinition,
    settings: Settings,
    plan: Plan,
    batch: list[date],
    force: bool,
    instance: DagsterInstance,
) -> BatchOutcome:
    symbols = sorted({symbol for session in batch for symbol in plan.todo[session]})
    result = job.execute_in_process(
        run_config=_run_config(settings, plan, symbols, force),
        instance=instance,
        tags={RANGE_START: batch[0].isoformat(), RANGE_END: batch[-1].isoformat()},
        raise_on_error=False,
    )
    if not result.success:
        return BatchOutcome(failure_line(result), {})
    return BatchOutcome(None, _check_metadata(result, "bars_conservation", "sessions"))


def _record(
    outcome: BatchOutcome,
    batch: list[date],
    plan: Plan,
    lake: ObjectStore,
    summary: BackfillSummary,
) -> None:
    """Count a batch's run, and mark its sessions done (only when the run succeeded)."""
    if outcome.error is not None:
        summary.failed += [{"session": s.isoformat(), "error": outcome.error} for s in batch]
        return
    for session in batch:
        counts = outcome.sessions[session.isoformat()]
        errors = dict(counts["provider_errors"])
        summary.sessions += 1
        summary.rows += counts["rows"]
        summary.validated += counts["validated"]
        summary.quarantined += counts["quarantined"]
        summary.provider_errors += len(errors)
        summary.notes += counts["notes"]
        for reason, count in counts["reasons"].items():
            summary.reasons[reason] = summary.reasons.get(reason, 0) + count
        summary.notes += [f"{symbol} {session}: {error}" for symbol, error in errors.items()]
        finished = {symbol for symbol in plan.todo[session] if symbol not in errors}
        done = sorted(_done(lake, session) | finished)
        # Written last: a session whose run failed has no new record a resume could trust.
        lake.put(day_key("history_done", session), encode("history_done", {"symbols": done}))


def _check_metadata(result: ExecuteInProcessResult, check: str, key: str) -> Any:
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.check_name == check:
            return evaluation.metadata[key].value
    raise RuntimeError(f"check {check} was not evaluated")


def _done(lake: ObjectStore, session: date) -> set[str]:
    body = read_if_present(lake, day_key("history_done", session))
    if body is None:
        return set()
    record = decode("history_done", body)
    assert isinstance(record, dict)
    return set(record.get("symbols", []))


def _batches(plan: Plan) -> Iterator[list[date]]:
    """Runs of consecutive sessions to do (a partition range per run), at most SESSIONS_PER_RUN."""
    batch: list[date] = []
    for session in plan.sessions:
        if session not in plan.todo or len(batch) == SESSIONS_PER_RUN:
            if batch:
                yield batch
            batch = []
        if session in plan.todo:
            batch.append(session)
    if batch:
        yield batch


def _run_config(
    settings: Settings, plan: Plan, symbols: list[str], force: bool
) -> dict[str, object]:
    request = {"provider": plan.provider, "symbols": symbols, "source": plan.source}
    return {
        "ops": {"raw_history": {"config": request | {"force": force}}},
        "loggers": {"console": {"config": {"log_level": settings.log_level}}},
    }


def _last_partition() -> date:
    """The newest session whose partition exists: a session's day must be over."""
    key = trading_sessions.get_last_partition_key()
    return date.fromisoformat(key) if key else date.min


def _source(settings: Settings, provider: str, source: str | None, first: date) -> HistorySource:
    try:
        return make_history_source(
            provider,
            seed=settings.seed,
            source=source,
            budget=stores.request_budget(settings, provider)
            if provider == "alphavantage"
            else None,
            key_param=settings.alphavantage_key_param,
            first_session=first,
        )
    except HistoryError as error:
        raise ConfigError(str(error)) from None


def _check_budget(
    settings: Settings, provider: str, history: HistorySource, todo: dict[date, list[str]]
) -> None:
    """Refuse a range the provider's daily request budget cannot pay for, before any request."""
    if provider != "alphavantage" or not todo:
        return
    symbols = sorted({symbol for wanted in todo.values() for symbol in wanted})
    needed = history.requests_needed(sorted(todo), symbols)
    today = datetime.now(UTC).date()
    left = settings.alphavantage_daily_budget - stores.request_budget(settings, provider).used(
        today
    )
    if needed > left:
        raise ConfigError(
            f"--from/--to/--symbols: the range needs {needed} alphavantage requests, the daily "
            f"budget has {left} left (MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET): narrow the range "
            "or the symbols"
        )


class _Progress:
    """A one-line progress bar on a terminal (sessions, rows, ETA); silent otherwise."""

    def __init__(self, total: int, stream: IO[str] | None):
        self.total, self.done, self.started = total, 0, time.monotonic()
        self.stream = stream if stream is not None and stream.isatty() else None

    def advance(self, sessions: int, rows: int) -> None:
        self.done += sessions
        if self.stream is None:
            return
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        filled = int(30 * self.done / max(self.total, 1))
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} sessions · "
            f"{rows:,} rows · ETA {int(eta) // 60}:{int(eta) % 60:02d} "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def shown_notes(notes: list[str], shown: int = 10) -> list[str]:
    """The first notes, and how many more there are."""
    more = [f"... and {len(notes) - shown} more notes"] if len(notes) > shown else []
    return notes[:shown] + more


def summary_text(summary: BackfillSummary, plan: Plan) -> str:
    """The summary for people: what ran, what was counted, what was skipped or failed."""
    lines = [
        f"backfill {plan.sessions[0]}..{plan.sessions[-1]} ({plan.provider}, "
        f"{_count(len(plan.symbols), 'symbol')}): {_count(summary.sessions, 'session')} run, "
        f"{summary.already_done} already done; {summary.rows:,} rows, "
        f"{summary.validated:,} validated, {summary.quarantined:,} quarantined"
        + (f", {summary.provider_errors} provider errors" if summary.provider_errors else "")
    ]
    if summary.skipped:
        lines.append(f"closed (skipped): {', '.join(summary.skipped)}")
    lines += [f"failed {f['session']}: {f['error']}" for f in summary.failed]
    lines += shown_notes(summary.notes)
    if summary.reasons:
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(summary.reasons.items()))
        lines.append(
            f"quarantined by reason: {reasons} (each row with its text in "
            "bars_quarantine/date=<session>/part.parquet)"
        )
    return "\n".join(lines)
