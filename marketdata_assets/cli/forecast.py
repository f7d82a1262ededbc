"""`marketdata forecast`: a symbol's price forecast, judged out of sample against naive."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from marketdata_assets.cli.common import Commands, fail, read
from marketdata_assets.errors import ConfigError
from marketdata_assets.market.calendar import EXCHANGE_TZ
from marketdata_assets.market.symbols import check_symbol
from marketdata_assets.settings import StorageSettings

# The forecasting's horizons (forecasting.panel.HORIZONS, which imports pandas): checked first.
FORECAST_HORIZONS = ("1m", "5m", "15m", "1d")


def register(commands: Commands) -> None:
    """Add the `forecast` command."""
    forecast = commands.add_parser(
        "forecast", help="forecast a symbol's price, judged out of sample against naive"
    )
    forecast.add_argument("symbol", metavar="SYMBOL", help="a ticker symbol, e.g. AAPL")
    forecast.add_argument(
        "--horizon", default="5m", help="1m, 5m, 15m or 1d (the next session's close; default: 5m)"
    )
    forecast.add_argument("--json", action="store_true", help="print one JSON object")
    forecast.set_defaults(handler=_forecast)


def _forecast(args: argparse.Namespace) -> int:
    # Every input is checked before pandas, a model library or the lake is touched.
    settings = StorageSettings.from_env()
    symbol = check_symbol(args.symbol.strip().upper(), "SYMBOL")
    if args.horizon not in FORECAST_HORIZONS:
        raise ConfigError(
            f"--horizon {args.horizon!r}: must be one of {', '.join(FORECAST_HORIZONS)}"
        )
    from marketdata_assets.forecasting.evaluation import sessions_needed
    from marketdata_assets.forecasting.panel import NotEnoughHistory, load_panel
    from marketdata_assets.forecasting.serving import ORIGINS, forecast

    panel = read(lambda: load_panel(settings, [symbol], None, sessions_needed(ORIGINS)))
    if panel is None:
        return 1
    try:
        served = forecast(panel, symbol, args.horizon)
    except NotEnoughHistory as error:  # a missing prerequisite, not bad input: exit 1
        return fail(error, 1)
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
