"""The forecasts graph, one partition per NYSE session (see `partitions`):

minute_bars + daily_bars + corporate_actions -> forecast_skill -> price_forecasts.

A partition is "as of that session's close": it reads the WINDOW sessions up to it of
minute_bars and daily_bars, declared as a `TimeWindowPartitionMapping` (offsets count partitions,
so trading sessions: the mapping skips weekends and holidays as the partitions do), and never a
later one, even when a run holds several sessions. Re-materialising an old session's bars thus
marks every forecast partition that read it as stale, and so does a late corporate action: the
panels are on the total-return basis of the window's actions (`forecasting.panel`). The assets
only wire the domain
(`forecasting`), imported inside them: statsmodels, scikit-learn and LightGBM load only in a run
that evaluates, never in the minute tick.
"""

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    Config,
    MetadataValue,
    Output,
    TimeWindowPartitionMapping,
    asset,
)
from pydantic import Field

from marketdata_assets.defs.partitions import trading_sessions
from marketdata_assets.forecasting.windows import MIN_ORIGINS, ORIGINS, sessions_needed
from marketdata_assets.market.backfill_range import suggested
from marketdata_assets.market.calendar import sessions_in

if TYPE_CHECKING:
    from marketdata_assets.forecasting.panel import Panel

GROUP = "forecasts"
LAKE = "lake_io_manager"
COVERAGE_TARGET = 0.80  # the intervals' nominal coverage
COVERAGE_TOLERANCE = 0.10  # interval_coverage warns beyond this distance from the target
SHOWN = 10  # rows of a failing check shown in its metadata
WINDOW = sessions_needed(ORIGINS)  # the sessions of bars a partition reads, its own included
# A partition reads its own session and the WINDOW - 1 before it (sessions, not days).
BARS_WINDOW = TimeWindowPartitionMapping(start_offset=-(WINDOW - 1), end_offset=0)
LEAK_COLUMNS = ("model", "symbol", "horizon", "origin", "trained_until", "information_until")


def _bars_ins() -> dict[str, AssetIn]:
    """minute_bars, daily_bars and corporate_actions as inputs over the declared window."""
    names = ("minute_bars", "daily_bars", "corporate_actions")
    return {name: AssetIn(partition_mapping=BARS_WINDOW) for name in names}


class EvaluationConfig(Config):
    """How much history an evaluation judges."""

    origins: int = Field(
        default=ORIGINS,
        ge=MIN_ORIGINS,
        le=ORIGINS,
        description="origin sessions (fewer when the lake holds fewer; at most the declared "
        "window's)",
    )


def _panels(
    context: AssetExecutionContext,
    minute_bars: dict[str, pd.DataFrame],
    daily_bars: dict[str, pd.DataFrame],
    corporate_actions: dict[str, pd.DataFrame],
    sessions: int = WINDOW,
) -> Iterator[tuple[str, "Panel"]]:
    """Each partition's panel: the `sessions` NYSE sessions up to it (at most the declared
    WINDOW) that its inputs hold, never a later session of the run, on the total-return basis
    of their actions."""
    from marketdata_assets.forecasting.panel import panel_from_bars, total_return

    keys = context.partition_keys
    first, last = date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])
    calendar = [
        day.isoformat() for day in sessions_in(first - timedelta(days=2 * WINDOW + 14), last)
    ]
    for key in keys:
        if key not in minute_bars or not len(minute_bars[key]):
            raise ValueError(
                f"{context.asset_key.to_user_string()} {key}: the session has no minute_bars; "
                f"run `{suggested(date.fromisoformat(key), date.fromisoformat(key))}` first"
            )
        days = [day for day in calendar if day <= key][-sessions:]
        held = [daily_bars[d] for d in days if d in daily_bars]
        actions = [corporate_actions[d] for d in days if len(corporate_actions.get(d, ()))]
        panel = panel_from_bars(
            pd.concat([minute_bars[d] for d in days if d in minute_bars], ignore_index=True),
            pd.concat(held, ignore_index=True) if held else None,
        )
        yield key, total_return(panel, pd.concat(actions, ignore_index=True) if actions else None)


@asset(
    group_name=GROUP,
    io_manager_key=LAKE,
    kinds={"parquet"},
    partitions_def=trading_sessions,
    ins=_bars_ins(),
    check_specs=[
        AssetCheckSpec(
            "no_leakage",
            asset="forecast_skill",
            blocking=True,
            description="No evaluated forecast was fitted on data at or after its origin, or "
            "read data after it.",
        )
    ],
)
def forecast_skill(
    context: AssetExecutionContext,
    config: EvaluationConfig,
    minute_bars: dict[str, pd.DataFrame],
    daily_bars: dict[str, pd.DataFrame],
    corporate_actions: dict[str, pd.DataFrame],
) -> Iterator[object]:
    """The walk-forward evaluation as of each session's close (its last ORIGINS sessions as
    origins, prices on the total-return basis): per model, horizon and symbol ("*": all symbols
    pooled), MAE, RMSE, MASE, relative MAE versus naive, directional accuracy and its SE, the
    Diebold-Mariano p-value against naive and the 80 % interval's coverage."""
    from marketdata_assets.forecasting.evaluation import leakage, walk_forward

    tables, forecasts, leaks = {}, 0, []
    panels = _panels(
        context, minute_bars, daily_bars, corporate_actions, sessions_needed(config.origins)
    )
    for key, panel in panels:
        evaluation = walk_forward(panel, origins=config.origins)
        tables[key] = evaluation.skill
        forecasts += len(evaluation.forecasts)
        leaks.append(leakage(evaluation))
    leaked = pd.concat(leaks, ignore_index=True)
    newest = tables[max(tables)]
    yield Output(tables, metadata=_relative_mae(newest) | {"rows": len(newest)})
    yield AssetCheckResult(
        check_name="no_leakage",
        asset_key="forecast_skill",
        passed=leaked.empty,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "forecasts": forecasts,
            "leaking": len(leaked),
            "first_leaking": _records(leaked[list(LEAK_COLUMNS)]),
        },
    )


def _relative_mae(skill: pd.DataFrame) -> dict[str, MetadataValue]:
    """Per horizon, each model's relative MAE with every symbol pooled."""
    from marketdata_assets.forecasting.metrics import POOLED

    pooled = skill[skill["symbol"].eq(POOLED)]
    return {
        f"relative_mae_{horizon}": MetadataValue.json(
            {
                model: round(float(value), 4)
                for model, value in zip(rows["model"], rows["relative_mae"], strict=True)
            }
        )
        for horizon, rows in pooled.groupby("horizon", sort=False)
    }


def _records(frame: pd.DataFrame) -> MetadataValue:
    """The first SHOWN rows of `frame`, as JSON metadata (times in ISO-8601)."""
    shown = frame.head(SHOWN)
    return MetadataValue.json(json.loads(shown.to_json(orient="records", date_format="iso")))


@asset(
    group_name=GROUP,
    io_manager_key=LAKE,
    kinds={"parquet"},
    partitions_def=trading_sessions,
    ins={"forecast_skill": AssetIn(), **_bars_ins()},
    check_specs=[
        AssetCheckSpec(
            "interval_coverage",
            asset="price_forecasts",
            description="At each horizon, the served models' 80 % intervals held the actual "
            "price in 70 % to 90 % of the evaluation's forecasts.",
        )
    ],
)
def price_forecasts(
    context: AssetExecutionContext,
    forecast_skill: dict[str, pd.DataFrame],
    minute_bars: dict[str, pd.DataFrame],
    daily_bars: dict[str, pd.DataFrame],
    corporate_actions: dict[str, pd.DataFrame],
) -> Iterator[object]:
    """Per symbol and horizon, as of the session's close (the traded close times the forecast
    total return): the forecast of the model with the
    best out-of-sample skill if it beats naive significantly (`forecasting.serving.choose`), else
    naive's, with the reason in words, its 80 % interval, origin and model, and that model's
    evaluated coverage. A symbol with too little history is left out (named in the metadata)."""
    from marketdata_assets.forecasting.evaluation import FORECAST_COLUMNS, Evaluation
    from marketdata_assets.forecasting.horizons import HORIZONS
    from marketdata_assets.forecasting.panel import NotEnoughHistory
    from marketdata_assets.forecasting.serving import forecast, served_table

    tables, unserved = {}, {}
    for key, panel in _panels(context, minute_bars, daily_bars, corporate_actions):
        # The stored skill table decides; the evaluation's forecasts are not kept in the lake.
        evaluated = Evaluation(pd.DataFrame(columns=list(FORECAST_COLUMNS)), forecast_skill[key])
        served = []
        for symbol, alone in _by_symbol(panel):
            try:
                served += [forecast(alone, symbol, horizon, evaluated) for horizon in HORIZONS]
            except NotEnoughHistory as error:
                unserved[f"{key} {symbol}"] = str(error)
        tables[key] = served_table(served, evaluated.skill)
    served_all = pd.concat(tables.values(), ignore_index=True)
    measured = served_all.groupby("horizon")["n"].sum()
    coverage = _pooled_coverage(served_all)
    outside = {h: c for h, c in coverage.items() if abs(c - COVERAGE_TARGET) > COVERAGE_TOLERANCE}
    yield Output(
        tables,
        metadata={
            "rows": len(served_all),
            "served": _served_counts(served_all),
            "not_served": MetadataValue.json(unserved),
        },
    )
    yield AssetCheckResult(
        check_name="interval_coverage",
        asset_key="price_forecasts",
        passed=not outside,
        severity=AssetCheckSeverity.WARN,
        metadata={
            **{f"coverage_{horizon}": value for horizon, value in coverage.items()},
            "outside_70_90": MetadataValue.json(outside),
            "forecasts": MetadataValue.json({h: int(n) for h, n in measured.items()}),
        },
    )


def _by_symbol(panel: "Panel") -> Iterator[tuple[str, "Panel"]]:
    """Each symbol's own panel: a served model is refitted on its symbol's history only (as
    `marketdata forecast` does), and a panel of one symbol is cheap to put on its grid."""
    from marketdata_assets.forecasting.panel import Panel

    days = dict(iter(panel.daily.groupby("symbol", sort=True)))
    for symbol, minute in panel.minute.groupby("symbol", sort=True):
        yield str(symbol), Panel(minute.reset_index(drop=True), days[symbol].reset_index(drop=True))


def _pooled_coverage(served: pd.DataFrame) -> dict[str, float]:
    """Per horizon, the share of the served models' evaluated actuals inside their intervals."""
    inside = served["coverage"] * served["n"]
    totals = served.assign(inside=inside).groupby("horizon")[["inside", "n"]].sum()
    return {h: float(row.inside / row.n) for h, row in totals.iterrows() if row.n}


def _served_counts(served: pd.DataFrame) -> MetadataValue:
    """How many symbol-horizons each model serves."""
    return MetadataValue.json(served["served_model"].value_counts().to_dict())


forecast_assets = [forecast_skill, price_forecasts]
