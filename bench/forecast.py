"""Benchmark: the forecasts' walk-forward over 100 symbols x 20 origin sessions of 1-minute bars.

Issue 12's workload: every model (`forecasting.registry.MODELS`) at the three minute horizons (1, 5
and 15 minutes), origins over the last 20 sessions, each model refitted before each origin
session on its training window. The bars are the stub's (a geometric random walk), generated in
memory as `marketdata backfill --provider stub` would land them. Beside it, in the same process,
the same walk-forward with naive alone: the ratio is what the models cost over the evaluation's
own bookkeeping. Wall time (one run each; the models' includes importing statsmodels,
scikit-learn and LightGBM, as a fresh run pays it) and peak resident memory are printed with
the pooled relative MAE of each model (about 1.00 on a random walk; seasonal naive about 1.4)
and the leakage count (0). Target: 120 s on 2 cores. Never a pass/fail gate.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _measure import machine, measure  # noqa: E402

from marketdata_assets.forecasting.evaluation import (  # noqa: E402
    Evaluation,
    leakage,
    sessions_needed,
    walk_forward,
)
from marketdata_assets.forecasting.horizons import HORIZONS  # noqa: E402
from marketdata_assets.forecasting.metrics import POOLED  # noqa: E402
from marketdata_assets.forecasting.panel import Panel, panel_from_bars  # noqa: E402
from marketdata_assets.forecasting.registry import MODELS  # noqa: E402
from marketdata_assets.lake.schemas import BAR_SCHEMA  # noqa: E402
from marketdata_assets.market.calendar import sessions_in  # noqa: E402
from marketdata_assets.providers.history_parse import parse_history  # noqa: E402
from marketdata_assets.providers.stub.history import StubHistory  # noqa: E402

LAST_SESSION = date(2026, 11, 25)
SEED = 7
MINUTE_HORIZONS = tuple(name for name, steps in HORIZONS.items() if steps)  # issue 12's three


@dataclass(frozen=True)
class Scale:
    symbols: int
    origins: int  # origin sessions; the panel holds sessions_needed(origins)


FULL = Scale(symbols=100, origins=20)
QUICK = Scale(symbols=10, origins=5)


def session_bars(symbols: list[str], session: date) -> pd.DataFrame:
    """The stub's 1-minute bars of `symbols` in `session`, as minute_bars holds them."""
    stub = StubHistory(seed=SEED)
    candidates = parse_history(stub.fetch(session, symbols), session).candidates
    assert candidates["problem"].isna().all(), f"{session}: the stub delivered a bad row"
    return candidates[list(BAR_SCHEMA)].astype(BAR_SCHEMA)


def stub_panel(symbols: list[str], sessions: list[date]) -> Panel:
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        frames = list(pool.map(partial(session_bars, symbols), sessions))
    return panel_from_bars(pd.concat(frames, ignore_index=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK.symbols} symbols x {QUICK.origins} origin sessions",
    )
    scale = QUICK if parser.parse_args().quick else FULL
    needed = sessions_needed(scale.origins)
    sessions = sessions_in(LAST_SESSION - timedelta(days=3 * needed), LAST_SESSION)[-needed:]
    symbols = [f"S{i:03d}" for i in range(scale.symbols)]
    print(f"bench/forecast.py on {machine()}")
    panel = stub_panel(symbols, sessions)
    print(
        f"{scale.symbols} symbols x {needed} sessions {sessions[0]}..{sessions[-1]} of 1-minute "
        f"bars ({len(panel.minute):,} bars): {scale.origins} origin sessions, horizons "
        f"{', '.join(MINUTE_HORIZONS)}"
    )

    def evaluate(models: tuple[str, ...]) -> Evaluation:
        return walk_forward(panel, scale.origins, MINUTE_HORIZONS, models)

    baseline, naive_s, naive_rss = measure(lambda: evaluate(("naive",)))
    evaluation, every_s, every_rss = measure(lambda: evaluate(tuple(MODELS)))
    assert leakage(evaluation).empty and leakage(baseline).empty

    forecasts = len(evaluation.forecasts)
    print(f"{'walk-forward':<32} | {'s':>7} {'peak MB':>8} | {'forecasts':>10} | vs naive only")
    for label, seconds, rss, rows, ratio in (
        ("naive only", naive_s, naive_rss, len(baseline.forecasts), 1.0),
        (f"all {len(MODELS)} models", every_s, every_rss, forecasts, every_s / naive_s),
    ):
        print(f"{label:<32} | {seconds:>7.1f} {rss / 2**20:>8,.0f} | {rows:>10,} | {ratio:>11.1f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB on Linux
    print(f"peak RSS of the process: {peak:,.0f} MB (panel and bars included); leakage: none")
    print("target: all models within 120 s on 2 cores")
    skill = evaluation.skill
    pooled = skill[skill["symbol"].eq(POOLED)].pivot(
        index="model", columns="horizon", values="relative_mae"
    )
    print("pooled relative MAE (model MAE / naive MAE on the same forecasts):")
    print(pooled.loc[list(MODELS), list(MINUTE_HORIZONS)].round(4).to_string())


if __name__ == "__main__":
    main()
