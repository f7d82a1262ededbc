"""`marketdata backfill`: history_job over the sessions of a range, resumable and idempotent.

"Done" is read from the lake per session and symbol (`history.done`): the symbols the session's
raw_history delivers and every later history dataset holds, so a backfill launched from the
Dagster UI counts as one from here, and a run killed half way leaves its sessions not done. A
rerun redoes only the sessions (and symbols) not done, or that failed; `--force` redoes them
all. The run fetches only symbols its session's raw lacks (or that failed at the provider), so
adding symbols to sessions already done keeps what is there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import IO

from dagster import DagsterInstance

from marketdata_assets import stores
from marketdata_assets.defs.partitions import SESSIONS_PER_RUN, trading_sessions
from marketdata_assets.errors import ConfigError
from marketdata_assets.execution import downstream, parallel
from marketdata_assets.execution.batches import BatchOutcome, execute_batch, history_definitions
from marketdata_assets.execution.progress import Progress
from marketdata_assets.execution.stages import stages as stages_of
from marketdata_assets.execution.tick import instance_or_ephemeral
from marketdata_assets.history.done import done_symbols
from marketdata_assets.market.backfill_range import refusal
from marketdata_assets.market.calendar import closed_days, sessions_in
from marketdata_assets.operations.sections import variable
from marketdata_assets.providers import registry
from marketdata_assets.providers.history import HistoryError, HistorySource, RangedSource
from marketdata_assets.settings import Settings


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
    # Source rows on sessions outside the range (a file's): counted in `rows`, never landed.
    # Always rows == validated + quarantined + outside_range, or the backfill failed.
    outside_range: int = 0
    refreshed: list[str] = field(default_factory=list)  # later sessions re-materialised
    actions_refused: dict[str, int] = field(default_factory=dict)  # refused actions per reason

    def as_dict(self) -> dict[str, object]:
        summary = asdict(self)
        del summary["already_done"], summary["notes"], summary["reasons"]
        del summary["actions_refused"]
        return summary


@dataclass(frozen=True)
class Plan:
    provider: str
    source: str
    symbols: list[str]
    sessions: list[date]  # every session in the range
    todo: dict[date, list[str]]  # session -> symbols to run (sessions with none are left out)
    skipped: list[date]
    outside_range: int = 0  # the source's rows on sessions outside the range (a file's)
    actions: str = ""  # a file of corporate actions (the file provider's --actions)


def plan(
    settings: Settings,
    first: date,
    last: date,
    symbols: Sequence[str] | None,
    provider: str,
    source: str | None,
    force: bool,
    actions: str | None = None,
) -> Plan:
    """What a backfill of `first`..`last` would run; bad input is a ConfigError (exit 2)."""
    if (why := refusal(first, last)) is not None:  # before the first session, closed, ahead
        raise ConfigError(why)
    completed = _last_partition()
    sessions = [s for s in sessions_in(first, last) if s <= completed]
    if not sessions:  # the partitions' clock is a moment behind the calendar's
        raise ConfigError(
            f"--from {first} --to {last}: after the last session that has ended, {completed}"
        )
    history = _source(settings, provider, source, sessions[0], actions)
    wanted = sorted(symbols or history.symbols() or settings.symbols)
    lake = stores.lake_store(settings)
    todo = {}
    for session in sessions:
        done = set() if force else done_symbols(lake, session)
        missing = [symbol for symbol in wanted if symbol not in done]
        if missing:
            todo[session] = missing
    _check_budget(settings, provider, history, todo)
    outside = history.outside_range(first, last, wanted) if isinstance(history, RangedSource) else 0
    return Plan(
        provider,
        source or "",
        wanted,
        sessions,
        todo,
        closed_days(first, last),
        outside,
        actions or "",
    )


def run(
    settings: Settings,
    plan: Plan,
    instance: DagsterInstance | None = None,
    progress: IO[str] | None = None,
    force: bool = False,
) -> BackfillSummary:
    """Run history_job over the plan's sessions, a batch of consecutive sessions per run, up to
    `parallel.backfill_workers` batches at once in worker processes when `instance` is
    persistent (one after another otherwise: the same objects either way); then re-materialise
    the later partitions the lake holds whose declared windows read a session written
    (`downstream`), so the lake does not depend on the order of backfills."""
    summary = BackfillSummary(
        skipped=[day.isoformat() for day in plan.skipped],
        already_done=len(plan.sessions) - len(plan.todo),
        rows=plan.outside_range,
        outside_range=plan.outside_range,
    )
    bar = Progress(len(plan.todo), progress)
    defs = history_definitions(settings)
    job = defs.resolve_job_def("history_job")
    batches: list[tuple[list[date], dict[str, object]]] = []
    rows = plan.outside_range

    def ended(index: int, outcome: BatchOutcome) -> None:
        nonlocal rows
        rows += sum(counts["rows"] for counts in outcome.sessions.values())
        bar.advance(len(batches[index][0]), rows)

    written: list[date] = []  # sessions whose run succeeded
    with instance_or_ephemeral(instance) as active:
        workers = parallel.backfill_workers(settings, len(list(_batches(plan))))
        if not active.is_persistent:  # an ephemeral instance lives in this process alone
            workers = 1
        size = SESSIONS_PER_RUN if workers == 1 else parallel.SESSIONS_PER_RUN
        batches += [(batch, _request(plan, batch, force)) for batch in _batches(plan, size)]
        if workers > 1:
            stages = stages_of(defs, job.name)
            outcomes = parallel.run_batches(job, settings, stages, batches, active, workers, ended)
        else:
            outcomes = []
            for index, (batch, request) in enumerate(batches):
                outcomes.append(execute_batch(job, settings, batch, request, active))
                ended(index, outcomes[-1])
        for (batch, _), outcome in zip(batches, outcomes, strict=True):  # in session order
            _record(outcome, batch, summary)
            written += batch if outcome.error is None else []
        bar.close()
        # The later partitions whose declared windows read what the batches wrote.
        refreshed = downstream.refresh_after(settings, job.name, written, active, progress)
    summary.refreshed = refreshed.sessions
    summary.failed += refreshed.failed
    return summary


def _request(plan: Plan, batch: list[date], force: bool) -> dict[str, object]:
    """raw_history's config for a batch (HistoryRequest): the symbols its sessions lack."""
    symbols = sorted({symbol for session in batch for symbol in plan.todo[session]})
    return {
        "provider": plan.provider,
        "symbols": symbols,
        "source": plan.source,
        "actions": plan.actions,
        "first_session": plan.sessions[0].isoformat(),  # every batch: one home
        "force": force,
    }


def _record(outcome: BatchOutcome, batch: list[date], summary: BackfillSummary) -> None:
    """Count a batch's run (its sessions' counts only when the run succeeded). A session whose
    rows are not each validated or quarantined exactly once fails the backfill: conservation,
    `rows == validated + quarantined + outside_range`, is a blocking check."""
    if outcome.error is not None:
        summary.failed += [{"session": s.isoformat(), "error": outcome.error} for s in batch]
        return
    for reason, count in outcome.actions_refused.items():
        summary.actions_refused[reason] = summary.actions_refused.get(reason, 0) + count
    for session in batch:
        counts = outcome.sessions[session.isoformat()]
        if counts["rows"] != counts["validated"] + counts["quarantined"]:
            summary.failed.append(
                {
                    "session": session.isoformat(),
                    "error": f"conservation: {counts['rows']} source rows, "
                    f"{counts['validated']} validated + {counts['quarantined']} quarantined",
                }
            )
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


def _batches(plan: Plan, size: int = SESSIONS_PER_RUN) -> Iterator[list[date]]:
    """Runs of consecutive sessions to do (a partition range per run), at most `size`."""
    batch: list[date] = []
    for session in plan.sessions:
        if session not in plan.todo or len(batch) == size:
            if batch:
                yield batch
            batch = []
        if session in plan.todo:
            batch.append(session)
    if batch:
        yield batch


def _last_partition() -> date:
    """The newest session whose partition exists: a session's day must be over."""
    key = trading_sessions.get_last_partition_key()
    return date.fromisoformat(key) if key else date.min


def _source(
    settings: Settings, provider: str, source: str | None, first: date, actions: str | None
) -> HistorySource:
    try:
        return registry.build_history_source(
            settings, provider, source=source, first_session=first, actions=actions
        )
    except HistoryError as error:
        raise ConfigError(str(error)) from None


def _check_budget(
    settings: Settings, provider: str, history: HistorySource, todo: dict[date, list[str]]
) -> None:
    """Refuse a range the provider's daily request budget cannot pay for, before any request."""
    budget = registry.request_budget(settings, provider)
    if budget is None or not todo:
        return
    symbols = sorted({symbol for wanted in todo.values() for symbol in wanted})
    needed = history.requests_needed(sorted(todo), symbols)
    left = budget.limit - budget.used(datetime.now(UTC).date())
    if needed > left:
        raise ConfigError(
            f"--from/--to/--symbols: the range needs {needed} {provider} requests, the daily "
            f"budget has {left} left ({variable(provider, 'daily_budget')}): narrow the range "
            "or the symbols"
        )


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
        + (f", {summary.outside_range:,} outside the range" if summary.outside_range else "")
        + (f", {summary.provider_errors} provider errors" if summary.provider_errors else "")
    ]
    if summary.skipped:
        lines.append(f"closed (skipped): {', '.join(summary.skipped)}")
    lines += [f"failed {f['session']}: {f['error']}" for f in summary.failed]
    lines += shown_notes(summary.notes)
    if summary.reasons:
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(summary.reasons.items()))
        lines.append(
            f"quarantined by reason: {reasons} (each row with its text: `marketdata quarantine "
            f"--history --from {plan.sessions[0]} --to {plan.sessions[-1]}`)"
        )
    if summary.actions_refused:
        refused = ", ".join(f"{code} {n}" for code, n in sorted(summary.actions_refused.items()))
        lines.append(
            f"corporate actions refused by reason: {refused} (each row with its text: "
            f"`GET /api/quarantine/actions?from={plan.sessions[0]}&to={plan.sessions[-1]}`, "
            "the dashboard's /quality page)"
        )
    return "\n".join(lines)
