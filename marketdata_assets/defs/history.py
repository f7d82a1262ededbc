"""The history graph, one partition per NYSE session (see `partitions`):

raw_history -> bars_gate -> minute_bars | bars_quarantine -> daily_bars -> session_analytics.

A run may hold several sessions (the backfill policy batches them): every daily asset's value
is {session key: value}, and the lake IO manager writes one object per session. What an asset
reads is declared: session_analytics' window of earlier daily_bars is a partition mapping, so
re-materialising an old session marks the later sessions that read it. The assets only wire the
domain (`providers.history`, `providers.history_parse`, `history.gate`, `history.daily`,
`history.analytics`).
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    Config,
    Output,
    asset,
    multi_asset,
)
from pydantic import Field

from marketdata_assets.defs.history_run import HistoryRun
from marketdata_assets.defs.lake import LakeResource
from marketdata_assets.defs.partitions import (
    history_backfill_policy,
    sessions_before,
    trading_sessions,
)
from marketdata_assets.defs.resources import HistorySourceResource
from marketdata_assets.history.raw import delivered, merge_raw
from marketdata_assets.lake.schemas import BAR_SCHEMA, DAILY_BAR_SCHEMA

GROUP = "history"
LAKE = "lake_io_manager"
ROLLING_SESSIONS = 20  # session_analytics reads this many earlier sessions of daily_bars
# Every history asset: one object per NYSE session in the lake, sessions batched per run.
SESSION_ASSET: dict[str, Any] = {
    "group_name": GROUP,
    "io_manager_key": LAKE,
    "partitions_def": trading_sessions,
    "backfill_policy": history_backfill_policy,
}


class HistoryRequest(Config):
    """What a history run fetches. Empty values take the resource's defaults."""

    provider: str = ""  # stub, yahoo, alphavantage or file (default: the configured one)
    symbols: list[str] = Field(
        default_factory=list
    )  # default: the configured symbols (a file: the symbols it holds)
    source: str = ""  # file: the CSV or Parquet file
    actions: str = ""  # file: the CSV or Parquet file of corporate actions
    force: bool = False  # fetch again symbols the session's raw already holds
    # The backfill's first session (YYYY-MM-DD), where a file's rows of no session land; the
    # same for every run of a backfill (default: the run's first session).
    first_session: str = ""


def _sessions(context: AssetExecutionContext) -> list[date]:
    return [date.fromisoformat(key) for key in context.partition_keys]


@asset(
    **SESSION_ASSET,
    kinds={"json"},
)
def raw_history(
    context: AssetExecutionContext,
    config: HistoryRequest,
    history: HistorySourceResource,
    lake: LakeResource,
    history_run: HistoryRun,
) -> Output[dict[str, bytes]]:
    """Each session's provider responses exactly as received (JSON Lines, one envelope per
    symbol). A rerun fetches only the symbols the session lacks, or failed, unless forced: it
    merges into the session's earlier raw, read through the lake resource (a dependency on the
    asset's own partition is a cycle: Dagster declares self-dependencies on earlier ones only).
    The run holds its sessions' locks from before that read to its end (`history_run`)."""
    sessions = _sessions(context)
    history_run.hold(sessions)
    source = history.source(
        config.provider, config.source, _first(config, sessions), config.actions
    )
    symbols = sorted(config.symbols or source.symbols() or history.symbols)
    landed = lake.load_days("raw_history", sessions)
    payloads: dict[str, bytes] = {}
    fetched = 0
    for session in sessions:
        key = session.isoformat()
        old = landed.get(key)
        assert old is None or isinstance(old, bytes)
        have = set() if config.force else delivered(old)
        wanted = [symbol for symbol in symbols if symbol not in have]
        payloads[key] = merge_raw(old, source.fetch(session, wanted)) if wanted else old or b""
        fetched += len(wanted)
    return Output(
        payloads,
        metadata={"provider": source.name, "symbols": len(symbols), "symbols_fetched": fetched},
    )


def _first(config: HistoryRequest, sessions: list[date]) -> date:
    return date.fromisoformat(config.first_session) if config.first_session else sessions[0]


@multi_asset(
    outs={
        "minute_bars": AssetOut(
            io_manager_key=LAKE,
            group_name=GROUP,
            kinds={"parquet"},
            description="Each session's valid 1-minute bars (daily bars where a provider keeps "
            "no minutes), sorted by symbol then start.",
        ),
        "bars_quarantine": AssetOut(
            io_manager_key=LAKE,
            group_name=GROUP,
            kinds={"parquet"},
            description="Every source row the bars gate rejected, with its reasons and text.",
        ),
    },
    ins={"raw_history": AssetIn()},
    partitions_def=trading_sessions,
    backfill_policy=history_backfill_policy,
    check_specs=[
        AssetCheckSpec(
            "bars_conservation",
            asset="minute_bars",
            blocking=True,
            description="Every source row of every session became exactly one valid or "
            "quarantined bar.",
        ),
        AssetCheckSpec(
            "bars_contract",
            asset="minute_bars",
            blocking=True,
            description="The valid bars have exactly the bar schema's columns and types.",
        ),
    ],
)
def bars_gate(
    context: AssetExecutionContext, raw_history: dict[str, bytes], history_run: HistoryRun
) -> Iterator[object]:
    """Parse every session's raw responses into candidate bars and route each through the
    bars suite (Great Expectations) and the session rules (holding the sessions' locks, as
    every history step does, so a run started here cannot race a backfill)."""
    from marketdata_assets.history.gate import gate_bars
    from marketdata_assets.providers.history_parse import parse_history, row_text

    sessions = _sessions(context)
    history_run.hold(sessions)
    frames, summary = [], {}
    for session in sessions:
        key = session.isoformat()
        payload = raw_history.get(key, b"")
        parsed = parse_history(payload, session)
        frames.append(parsed.candidates.assign(session=pd.Timestamp(session).as_unit("us")))
        summary[key] = {
            "rows": len(parsed.candidates),
            "provider_errors": parsed.errors,
            "notes": parsed.notes,  # e.g. a session older than the provider keeps minutes for
        }
        for note in parsed.notes:
            context.log.info(note)
    candidates = pd.concat(frames, ignore_index=True)

    def texts(rows: pd.DataFrame) -> list[str]:
        return [
            row_text(raw_history.get(session.date().isoformat(), b""), int(line), int(item))
            for session, line, item in zip(rows["session"], rows["line"], rows["item"], strict=True)
        ]

    verdict = gate_bars(candidates, sessions, texts)
    bars_by = _by_session(verdict.bars, "start", sessions)
    quarantine_by = _by_session(verdict.quarantine, "session", sessions)
    for key in summary:
        rejected = quarantine_by[key]
        summary[key] |= {
            "validated": len(bars_by[key]),
            "quarantined": len(rejected),
            "reasons": rejected["reasons"].explode().value_counts().to_dict(),
        }
    yield Output(bars_by, output_name="minute_bars", metadata={"rows": len(verdict.bars)})
    yield Output(
        quarantine_by,
        output_name="bars_quarantine",
        metadata={
            "rows": len(verdict.quarantine),
            "reasons": {code: n for code, n in verdict.reason_counts.items() if n},
        },
    )
    accounted = len(verdict.bars) + len(verdict.quarantine)
    # Every row once, in total and in its own session's objects (a row split off no session).
    each = all(
        len(bars_by[key]) + len(quarantine_by[key]) == len(frame)
        for key, frame in zip(summary, frames, strict=True)
    )
    yield AssetCheckResult(
        check_name="bars_conservation",
        asset_key="minute_bars",
        passed=accounted == len(candidates) and each,
        severity=AssetCheckSeverity.ERROR,
        metadata={"source_rows": len(candidates), "accounted": accounted, "sessions": summary},
    )
    dtypes = {name: str(dtype) for name, dtype in verdict.bars.dtypes.items()}
    yield AssetCheckResult(
        check_name="bars_contract",
        asset_key="minute_bars",
        passed=dtypes == BAR_SCHEMA,
        severity=AssetCheckSeverity.ERROR,
        metadata={"columns": dtypes},
    )


def _by_session(frame: pd.DataFrame, column: str, sessions: list[date]) -> dict[str, pd.DataFrame]:
    """`frame` split into one frame per session (empty ones included), by the New York date of
    `column` (a bar's start) or its value (a session column)."""
    values = frame[column]
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("America/New_York").dt.tz_localize(None)
    days = values.dt.normalize()
    return {
        session.isoformat(): frame[days == pd.Timestamp(session)].reset_index(drop=True)
        for session in sessions
    }


@asset(
    **SESSION_ASSET,
    kinds={"parquet"},
)
def daily_bars(
    context: AssetExecutionContext,
    minute_bars: dict[str, pd.DataFrame],
    history_run: HistoryRun,
) -> Output[dict[str, pd.DataFrame]]:
    """Per symbol and session: open, high, low, close, volume, VWAP, minutes present, first and
    last minute."""
    history_run.hold(_sessions(context))  # held already when the run began at raw_history
    from marketdata_assets.history.daily import daily_bars as summarise

    days = {key: summarise(minute_bars.get(key, _empty_bars())) for key in context.partition_keys}
    return Output(days, metadata={"rows": sum(len(frame) for frame in days.values())})


@asset(
    **SESSION_ASSET,
    kinds={"parquet"},
    ins={
        "daily_bars": AssetIn(partition_mapping=sessions_before(ROLLING_SESSIONS)),
        "minute_bars": AssetIn(),
        "corporate_actions": AssetIn(partition_mapping=sessions_before(ROLLING_SESSIONS)),
    },
)
def session_analytics(
    context: AssetExecutionContext,
    daily_bars: dict[str, pd.DataFrame],
    minute_bars: dict[str, pd.DataFrame],
    corporate_actions: dict[str, pd.DataFrame],
    history_run: HistoryRun,
) -> Output[dict[str, pd.DataFrame]]:
    """Per symbol and session: close-to-close and overnight log returns across splits (on the
    split-adjusted series: a split's own session has its real return), realised volatility
    from 5-minute returns, range, close versus VWAP and 20-session rolling volatility; prices
    as traded (its daily_bars and corporate_actions inputs are the run's sessions and the 20
    sessions before the first)."""
    from marketdata_assets.history.analytics import split_adjusted_analytics

    sessions = _sessions(context)
    history_run.hold(sessions)  # a refresh of later sessions runs this asset alone
    frames = [frame for frame in daily_bars.values() if len(frame)]
    daily = pd.concat(frames, ignore_index=True) if frames else _empty_daily()
    bars = pd.concat([_empty_bars(), *minute_bars.values()], ignore_index=True)
    held = [frame for frame in corporate_actions.values() if len(frame)]
    actions = pd.concat(held, ignore_index=True) if held else None
    table = split_adjusted_analytics(daily, bars, sessions, actions)
    days = _by_session(table, "session", sessions)
    return Output(days, metadata={"rows": len(table)})


def _empty_bars() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in BAR_SCHEMA.items()})


def _empty_daily() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in DAILY_BAR_SCHEMA.items()})


history_assets = [raw_history, bars_gate, daily_bars, session_analytics]
