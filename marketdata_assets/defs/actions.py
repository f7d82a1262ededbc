"""Corporate actions in the history graph, one partition per NYSE session (the ex-date's):

raw_history + daily_bars (the session before) -> actions_gate -> corporate_actions |
actions_quarantine.

The actions ride in the raw_history objects the bars came in (raw first: nothing is fetched
twice); the gate reads the symbol's close of the session before each ex-date from daily_bars (a
dividend must be below it). The assets only wire the domain (`providers.actions`,
`history.actions_gate`).
"""

from collections.abc import Iterator
from datetime import date

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    Output,
    multi_asset,
)

from marketdata_assets.defs.history_run import HistoryRun
from marketdata_assets.defs.partitions import (
    history_backfill_policy,
    sessions_before,
    trading_sessions,
)
from marketdata_assets.lake.datasets import DATASETS

GROUP = "history"
LAKE = "lake_io_manager"


@multi_asset(
    outs={
        "corporate_actions": AssetOut(
            io_manager_key=LAKE,
            group_name=GROUP,
            kinds={"parquet"},
            description="Each ex-date session's splits and dividends that passed the actions "
            "gate, sorted by symbol, ex-date and kind.",
        ),
        "actions_quarantine": AssetOut(
            io_manager_key=LAKE,
            group_name=GROUP,
            kinds={"parquet"},
            description="Every corporate-action row the actions gate rejected, with its "
            "reasons and text.",
        ),
    },
    ins={
        "raw_history": AssetIn(),
        "daily_bars": AssetIn(partition_mapping=sessions_before(1)),
    },
    partitions_def=trading_sessions,
    backfill_policy=history_backfill_policy,
    check_specs=[
        AssetCheckSpec(
            "actions_conservation",
            asset="corporate_actions",
            blocking=True,
            description="Every action row the landed history carried became exactly one gated "
            "or quarantined action.",
        ),
        AssetCheckSpec(
            "actions_contract",
            asset="corporate_actions",
            blocking=True,
            description="The gated actions have exactly the corporate_actions schema's columns "
            "and types, one per symbol, ex-date and kind.",
        ),
    ],
)
def actions_gate(
    context: AssetExecutionContext,
    raw_history: dict[str, bytes],
    daily_bars: dict[str, pd.DataFrame],
    history_run: HistoryRun,
) -> Iterator[object]:
    """Read the splits and dividends each session's raw history carries and route each through
    the actions gate (holding the sessions' locks, as every history step does)."""
    from marketdata_assets.history.actions_gate import empty_candidates, gate_actions, sessions_of
    from marketdata_assets.history.adjust import previous_closes_of
    from marketdata_assets.providers.actions import action_text, parse_actions

    sessions = [date.fromisoformat(key) for key in context.partition_keys]
    history_run.hold(sessions)
    frames = [empty_candidates()]
    for session in sessions:
        parsed = parse_actions(raw_history.get(session.isoformat(), b""), session)
        frames.append(parsed.assign(session=pd.Timestamp(session).as_unit("us")))
    candidates = pd.concat(frames, ignore_index=True)
    candidates["row"] = range(len(candidates))
    held = [frame for frame in daily_bars.values() if len(frame)]
    daily = pd.concat(held, ignore_index=True) if held else pd.DataFrame()

    def texts(rows: pd.DataFrame) -> list[str]:
        return [
            action_text(raw_history.get(session.date().isoformat(), b""), int(line), int(item))
            for session, line, item in zip(rows["session"], rows["line"], rows["item"], strict=True)
        ]

    verdict = gate_actions(
        candidates, previous_closes_of(candidates.dropna(subset=["ex_date"]), daily), texts
    )
    actions_by = sessions_of(verdict.actions, sessions)
    quarantine = verdict.quarantine
    quarantine_by = {
        key: quarantine[quarantine["session"] == pd.Timestamp(key)].reset_index(drop=True)
        for key in context.partition_keys
    }
    yield Output(
        actions_by, output_name="corporate_actions", metadata={"rows": len(verdict.actions)}
    )
    yield Output(
        quarantine_by,
        output_name="actions_quarantine",
        metadata={
            "rows": len(quarantine),
            "reasons": {code: n for code, n in verdict.reason_counts.items() if n},
        },
    )
    accounted = sum(len(f) for f in actions_by.values()) + sum(
        len(f) for f in quarantine_by.values()
    )
    yield AssetCheckResult(
        check_name="actions_conservation",
        asset_key="corporate_actions",
        passed=accounted == len(candidates),
        severity=AssetCheckSeverity.ERROR,
        metadata={"source_rows": len(candidates), "accounted": accounted},
    )
    dtypes = {name: str(dtype) for name, dtype in verdict.actions.dtypes.items()}
    unique = not verdict.actions.duplicated(["symbol", "ex_date", "kind"]).any()
    yield AssetCheckResult(
        check_name="actions_contract",
        asset_key="corporate_actions",
        passed=dtypes == DATASETS["corporate_actions"].dtypes and unique,
        severity=AssetCheckSeverity.ERROR,
        metadata={"columns": dtypes, "unique": unique},
    )


actions_assets = [actions_gate]
