"""`marketdata forecast`: a symbol's price forecast, judged out of sample against naive."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from marketdata_assets.cli.common import QUIET, Commands, command, fail, instance, read
from marketdata_assets.forecasting.horizons import HORIZONS, check_horizon, horizon_words
from marketdata_assets.market import params
from marketdata_assets.market.calendar import EXCHANGE_TZ
from marketdata_assets.settings import Settings, StorageSettings

if TYPE_CHECKING:
    from marketdata_assets.lake import ObjectStore

*_FIRST, _LAST = HORIZONS  # --help names them as a sentence: "1m, 5m, 15m or 1d"


def register(commands: Commands) -> None:
    """Add the `forecast` command."""
    forecast = command(
        commands,
        "forecast",
        "forecast a symbol's price, judged out of sample against naive",
        "marketdata forecast AAPL --horizon 1d --refresh",
    )
    forecast.add_argument("symbol", metavar="SYMBOL", help="a ticker symbol, e.g. AAPL")
    forecast.add_argument(
        "--horizon",
        default="5m",
        help=f"{', '.join(_FIRST)} or {_LAST} (the next session's close; default: 5m)",
    )
    forecast.add_argument(
        "--refresh",
        action="store_true",
        help="first materialise the forecasts for the newest session held (a Dagster run)",
    )
    forecast.add_argument("--json", action="store_true", help="print one JSON object")
    forecast.set_defaults(handler=_forecast)


def _forecast(args: argparse.Namespace) -> int:
    # Every input is checked before pandas, the lake or Dagster is touched.
    symbol = params.typed_symbol(args.symbol, "SYMBOL")
    horizon = check_horizon(args.horizon, "--horizon")
    settings = Settings.from_env() if args.refresh else StorageSettings.from_env()
    from marketdata_assets import stores
    from marketdata_assets.forecasting.panel import NotEnoughHistory
    from marketdata_assets.forecasting.served import NotServed, read_forecast

    lake = stores.lake_store(settings)
    try:
        if args.refresh:
            assert isinstance(settings, Settings)
            stopped = _refresh(settings, lake, symbol)
            if stopped is not None:
                return fail(RuntimeError(stopped), 1)
        served = read(lambda: read_forecast(lake, symbol, horizon))
    except (NotEnoughHistory, NotServed) as error:  # a missing prerequisite: exit 1
        return fail(error, 1)
    if served is None:
        return 1
    print(json.dumps(served, allow_nan=False) if args.json else _forecast_text(served))
    return 0


def _refresh(settings: Settings, lake: ObjectStore, symbol: str) -> str | None:
    """Materialise the forecasts for the newest session the lake holds bars of (NotEnoughHistory
    first when too few are held for `symbol`); the run's failure in one line, or None."""
    from marketdata_assets import stores
    from marketdata_assets.forecasting.served import history_for

    session = history_for(lake, symbol)
    if "log_level" not in settings.model_fields_set:
        settings = settings.with_overrides(log_level=QUIET)
    stores.check_writable(settings)
    # Imported here: only a refresh runs Dagster; the read above never does.
    from marketdata_assets.execution.forecasts import materialise_forecasts

    return materialise_forecasts(settings, session, instance(settings))


def _forecast_text(served: dict[str, Any]) -> str:
    """The verdict in words, the forecast, then each model's out-of-sample skill (naive first)."""
    from marketdata_assets.tick.views import fallback_line, forecast_verdict, p_value_text

    model, ahead = served["served_model"], horizon_words(served["horizon"])
    verdict = forecast_verdict(served)
    origin = datetime.fromisoformat(served["origin"]).astimezone(ZoneInfo(EXCHANGE_TZ))
    # Minute horizons count trading minutes: from a close they reach into the next session.
    target = ahead if served["horizon"] == "1d" else f"{ahead} of trading later"
    fell_back = fallback_line(served)
    lines = [
        verdict,
        f"why: {served['reason']}",
        *([fell_back] if fell_back else []),
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
