"""Every forecasting model, registered once: one `ModelSpec` line per model, naive first.

The walk-forward judges each registered model against naive, `forecast_skill` lists it and
serving may serve it. A model's module imports its library inside its fit, so listing it here
loads nothing heavy.
"""

from __future__ import annotations

from marketdata_assets.forecasting import baselines, learning, statistical
from marketdata_assets.forecasting.models import Fitter, ModelSpec

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("naive", baselines.fit_naive, "no change: the last price"),
        ModelSpec("drift", baselines.fit_drift, "the window's mean return per symbol, times h"),
        ModelSpec(
            "seasonal_naive",
            baselines.fit_seasonal_naive,
            "the return over the same minutes of the previous session",
        ),
        ModelSpec("ets", statistical.fit_ets, "ETS(A,Ad,N) on the log price (statsmodels)"),
        ModelSpec("arima", statistical.fit_arima, "ARIMA(2,1,0) on the log price (statsmodels)"),
        ModelSpec("ridge", learning.fit_ridge, "ridge regression on lagged returns (scikit-learn)"),
        ModelSpec("lightgbm", learning.fit_lightgbm, "gradient-boosted trees (LightGBM)"),
    )
}


def fitter(name: str) -> Fitter:
    """The fit function of the registered model `name`."""
    if name not in MODELS:
        raise ValueError(f"model {name!r}: must be one of {', '.join(MODELS)}")
    return MODELS[name].fit
