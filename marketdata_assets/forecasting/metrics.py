"""Out-of-sample skill of forecasts against naive: the metrics of one table, and the
Diebold-Mariano test.

Errors are in price (actual - forecast). Per model, horizon and symbol ("*": every symbol's
forecasts together, so MAE and RMSE there mix price levels; read its scale-free columns):
- mae, rmse; mase = mean(|error| / the symbol's in-sample MAE of the one-step naive forecast).
- relative_mae = MAE / MAE of naive on the same origins (skill = 1 - relative_mae).
- directional_accuracy: the share of forecasts whose direction (forecast vs last price) is the
  actual's, among those where both moved; directional_accuracy_se = sqrt(p (1 - p) / n).
  Naive never calls a direction: null.
- dm_pvalue: Diebold-Mariano against naive on absolute errors (the loss skill measures), d =
  |naive error| - |model error|, Newey-West (Bartlett) variance with lag h - 1 where h is the
  number of successive origins whose targets overlap, the Harvey-Leybourne-Newbold small-sample
  correction and a two-sided Student t(n - 1) p-value. Autocovariances pair a symbol's forecasts
  only with its own (pooled rows assume symbols independent). Null for naive itself.
- coverage: the share of actuals inside [lower, upper].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketdata_assets.lake.datasets import dataset

# The skill table's columns and dtypes, as the registry's forecast_skill holds them.
SKILL_DTYPES = dataset("forecast_skill").dtypes
SKILL_COLUMNS = tuple(SKILL_DTYPES)
# A skill row as a served forecast shows it (issue 12's JSON): the model and its metrics.
SKILL_FIELDS = tuple(c for c in SKILL_COLUMNS if c not in ("horizon", "symbol", "n"))
POOLED = "*"
_READ = ("forecast", "actual", "last_price", "lower", "upper", "mase_scale")


def diebold_mariano(differences: np.ndarray, overlap: int) -> float:
    """The two-sided p-value that the mean loss difference of one series is zero (see above);
    `overlap` is h, the number of successive differences sharing information."""
    group = np.zeros(len(differences), dtype=np.int64)
    return float(_dm_pvalues(np.asarray(differences, float), group, group, 1, overlap)[0])


def skill_table(forecasts: pd.DataFrame, order: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per model, horizon and symbol (and "*"), SKILL_COLUMNS, from `forecasts` (the
    walk-forward's rows, naive's among them); models ordered as in `order`, naive first."""
    models, model_names = pd.factorize(forecasts["model"])
    symbols, symbol_names = pd.factorize(forecasts["symbol"], sort=True)
    horizons, horizon_names = pd.factorize(forecasts["horizon"])
    naive = np.flatnonzero(np.asarray(model_names) == "naive")
    tables = []
    for code, horizon in enumerate(horizon_names):
        rows = np.flatnonzero(horizons == code)
        origin = forecasts["origin"].array.asi8[rows]
        rows = rows[np.lexsort((origin, models[rows], symbols[rows]))]
        table = _horizon_table(forecasts, rows, models, symbols, naive[0] if len(naive) else -1)
        table["model"] = np.asarray(model_names, dtype=object)[table.pop("model_code")]
        table["symbol"] = np.where(
            table["symbol_code"] < 0,
            POOLED,
            np.asarray(symbol_names, dtype=object)[table.pop("symbol_code")],
        )
        table["horizon"] = horizon
        tables.append(table)
    if not tables:  # no forecast: typed all the same
        return pd.DataFrame({c: [] for c in SKILL_COLUMNS}).astype(SKILL_DTYPES)
    table = pd.concat(tables, ignore_index=True)
    rank = {name: i for i, name in enumerate(("naive", *order))}
    table["_model"] = table["model"].map(lambda name: rank.get(name, len(rank)))
    table["_symbol"] = table["symbol"].ne(POOLED)
    table = table.sort_values(["horizon", "_symbol", "symbol", "_model"], ignore_index=True)
    return table[list(SKILL_COLUMNS)].astype(SKILL_DTYPES)


def _horizon_table(
    forecasts: pd.DataFrame, rows: np.ndarray, models: np.ndarray, symbols: np.ndarray, naive: int
) -> pd.DataFrame:
    """The skill rows (with model and symbol codes, -1 for "*") of one horizon's `rows` of
    `forecasts`, sorted by symbol, model, origin."""
    column = {name: forecasts[name].to_numpy()[rows] for name in _READ}
    origin, target = (forecasts[name].array.asi8[rows] for name in ("origin", "target"))
    model, symbol = models[rows], symbols[rows]
    error = column["actual"] - column["forecast"]
    absolute = np.abs(error)
    instants, moment = np.unique(origin, return_inverse=True)
    slot = symbol.astype(np.int64) * len(instants) + moment  # one per symbol and origin
    naive_abs = np.full(slot.max(initial=-1) + 1, np.nan)
    naive_abs[slot[model == naive]] = absolute[model == naive]
    difference = naive_abs[slot] - absolute
    called = np.sign(column["forecast"] - column["last_price"])
    moved = np.sign(column["actual"] - column["last_price"])
    both = (called != 0) & (moved != 0)
    inside = (column["lower"] <= column["actual"]) & (column["actual"] <= column["upper"])
    values = {
        "abs": absolute,
        "square": error**2,
        "scaled": absolute / column["mase_scale"],
        "naive_abs": naive_abs[slot],
        "both": both.astype(float),
        "hit": (both & (called == moved)).astype(float),
        "inside": inside.astype(float),
    }
    overlap = _overlap(origin, target, model, symbol)
    tables = []
    for pooled in (False, True):
        key = model.astype(np.int64) if pooled else model.astype(np.int64) << 32 | symbol
        labels, group = np.unique(key, return_inverse=True)
        table = _group_metrics(values, group, len(labels))
        table["dm_pvalue"] = _dm_pvalues(difference, group, symbol, len(labels), overlap)
        table["model_code"] = labels if pooled else labels >> 32
        table["symbol_code"] = -1 if pooled else labels & 0xFFFFFFFF
        table.loc[table["model_code"].eq(naive), "dm_pvalue"] = np.nan
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _group_metrics(values: dict[str, np.ndarray], group: np.ndarray, groups: int) -> pd.DataFrame:
    def total(name: str) -> np.ndarray:
        return np.bincount(group, weights=values[name], minlength=groups)

    n = np.bincount(group, minlength=groups).astype(float)
    called = total("both")
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = total("hit") / called
        return pd.DataFrame(
            {
                "n": n.astype(np.int64),
                "mae": total("abs") / n,
                "rmse": np.sqrt(total("square") / n),
                "mase": total("scaled") / n,
                "relative_mae": total("abs") / total("naive_abs"),
                "directional_accuracy": accuracy,
                "directional_accuracy_se": np.sqrt(accuracy * (1 - accuracy) / called),
                "coverage": total("inside") / n,
            }
        )


def _overlap(origin: np.ndarray, target: np.ndarray, model: np.ndarray, symbol: np.ndarray) -> int:
    """h: 1 + the most successive origins of one model and symbol made before a target is
    known (rows sorted by symbol, model, origin)."""
    lag = 0
    while lag + 1 < len(origin):
        k = lag + 1
        same = (symbol[k:] == symbol[:-k]) & (model[k:] == model[:-k])
        if not (same & (origin[k:] < target[:-k])).any():
            break
        lag = k
    return lag + 1


def _dm_pvalues(
    difference: np.ndarray, group: np.ndarray, cluster: np.ndarray, groups: int, overlap: int
) -> np.ndarray:
    """Each group's DM p-value; autocovariances pair rows of one cluster, `overlap` = h."""
    from scipy.special import stdtr

    known = np.isfinite(difference)
    d, group, cluster = difference[known], group[known], cluster[known]
    n = np.bincount(group, minlength=groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(group, weights=d, minlength=groups) / n
        centred = d - mean[group]
        variance = np.bincount(group, weights=centred**2, minlength=groups) / n
        for k in range(1, overlap):
            pair = (group[k:] == group[:-k]) & (cluster[k:] == cluster[:-k])
            products = np.where(pair, centred[k:] * centred[:-k], 0.0)
            autocovariance = np.bincount(group[k:], weights=products, minlength=groups) / n
            variance += 2 * (1 - k / overlap) * autocovariance
        statistic = mean / np.sqrt(variance / n)
        h = overlap
        statistic *= np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
        pvalue = 2 * stdtr(n - 1, -np.abs(statistic))
    pvalue = np.where(variance <= 0, np.where(mean == 0, 1.0, 0.0), pvalue)
    return np.where(n >= 2, pvalue, np.nan)
