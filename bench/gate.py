"""Benchmark: the Great Expectations gate against a plain pandas mask applying the same rules,
and the gate's `price_jump` pass vectorised against the row-by-row loop it replaced.

Prints rows/s and peak memory growth for 1k, 100k and 1M curated rows with 1 % defects, and the
ratios, measured in the same process. Never a pass/fail gate.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import machine, measure

from marketdata_assets.gate import REASONS, judge
from marketdata_assets.gate.jumps import Jumps, price_jumps
from marketdata_assets.gate.reference import PriceState, judge_price
from marketdata_assets.market.symbols import SYMBOL_PATTERN
from marketdata_assets.tick.curation import CURATED_SCHEMA, conform

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
SIZES = (1_000, 100_000, 1_000_000)
DEFECT_RATE = 0.01


def curated_rows(n: int, seed: int = 1) -> pd.DataFrame:
    """n curated rows, 1 % of them given one defect each (spread over the reason codes)."""
    rng = np.random.default_rng(seed)
    symbols = np.array([f"S{i}" for i in range(max(1, n // 4))], dtype=object)
    frame = pd.DataFrame(
        {
            "line": np.arange(1, n + 1),
            "parsed": True,
            "symbol": symbols[np.arange(n) % len(symbols)],
            "price": rng.uniform(10, 500, n),
            "day_volume": rng.integers(0, 10_000, n),
            "currency": "USD",
            "event_ts": pd.Timestamp(TICK)
            + pd.to_timedelta(np.arange(n) % 60_000 + (np.arange(n) // len(symbols)), "ms"),
            "exchange": "NMS",
            "exchange_tz": "America/New_York",
            "trading_day": pd.Timestamp(TICK.date()),
            "tick": pd.Timestamp(TICK),
        }
    )
    frame = conform(frame)
    defective = np.flatnonzero(rng.random(n) < DEFECT_RATE)
    kinds = defective % 7
    frame.loc[defective[kinds == 0], "parsed"] = False
    frame.loc[defective[kinds == 1], "symbol"] = "bad/symbol"
    frame.loc[defective[kinds == 2], "price"] = -1.0
    frame.loc[defective[kinds == 3], "day_volume"] = pd.NA
    frame.loc[defective[kinds == 4], "currency"] = "DOLLARS"
    frame.loc[defective[kinds == 5], "event_ts"] = pd.Timestamp(TICK - timedelta(days=2))
    frame.loc[defective[kinds == 6], "event_ts"] = pd.NaT
    assert list(frame.columns) == list(CURATED_SCHEMA)
    return frame


def mask_gate(rows: pd.DataFrame, reference: dict[str, float], threshold: float) -> np.ndarray:
    """The same rules as a plain pandas boolean mask: the baseline."""
    offset = (rows["event_ts"] - rows["tick"]).dt.total_seconds()
    flags = {
        "unparseable": ~rows["parsed"],
        "symbol_invalid": ~rows["symbol"].str.fullmatch(SYMBOL_PATTERN[1:-1]).fillna(False),
        "price_invalid": ~((rows["price"] >= 1e-130) & (rows["price"] < 1e126)),
        "volume_invalid": ~(rows["day_volume"] >= 0).fillna(False),
        "currency_invalid": ~rows["currency"].str.fullmatch("[A-Z]{3}").fillna(False),
        "timestamp_invalid": rows["event_ts"].isna(),
        "timestamp_future": offset > 60,
        "timestamp_stale": offset < -86400,
    }
    bad = np.logical_or.reduce([m.to_numpy(dtype=bool) for m in flags.values()])
    clean = ~bad
    clean[
        np.flatnonzero(clean)[rows.loc[clean, ["symbol", "event_ts"]].duplicated().to_numpy()]
    ] = False
    # price_jump: each accepted row moves its symbol's reference (the gate's own vectorised pass).
    candidates = rows.loc[clean]
    clean[np.flatnonzero(clean)] = ~vector_pass(candidates, reference, threshold).jumped
    return clean


def _us(moments: pd.Series) -> np.ndarray:
    return moments.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")


def vector_pass(candidates: pd.DataFrame, reference: dict[str, float], threshold: float) -> Jumps:
    """The gate's `price_jump` pass (gate/jumps.py) over clean rows."""
    return price_jumps(
        candidates["symbol"].to_numpy(dtype=object),
        candidates["price"].to_numpy(dtype="float64"),
        _us(candidates["event_ts"]),
        _us(candidates["tick"]),
        reference,
        threshold,
        3,
    )


def loop_pass(candidates: pd.DataFrame, reference: dict[str, float], threshold: float) -> list:
    """The pass as it was until issue 23: `judge_price` row by row in event order (baseline)."""
    states = {symbol: PriceState(price) for symbol, price in reference.items()}
    ordered = candidates.sort_values("event_ts", kind="stable")
    jumped = []
    for symbol, price, tick in zip(
        ordered["symbol"].to_numpy(),
        ordered["price"].to_numpy(dtype="float64"),
        ordered["tick"].dt.to_pydatetime(),
        strict=True,
    ):
        decision = judge_price(states.get(symbol), price, tick, threshold, 3)
        states[symbol] = decision.state
        jumped.append(decision.jumped)
    return jumped


def clean_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows the `price_jump` pass sees: valid and not duplicated (1 % defects dropped)."""
    kept = rows[rows["parsed"] & (rows["price"] > 0) & rows["event_ts"].notna()]
    return kept.drop_duplicates(["symbol", "event_ts"])


def jump_pass_table() -> None:
    print(f"\n{'rows':>9} | {'price_jump vectorised rows/s':>28} | {'row-by-row loop rows/s':>22} "
          f"| {'loop/vectorised time':>20}")  # fmt: skip
    for n in SIZES:
        candidates = clean_rows(curated_rows(n))
        reference = {"S0": 1.0}
        jumps, vector_s, _ = measure(partial(vector_pass, candidates, reference, 0.5), 3)
        looped, loop_s, _ = measure(partial(loop_pass, candidates, reference, 0.5))
        order = np.argsort(_us(candidates["event_ts"]), kind="stable")
        assert jumps.jumped[order].tolist() == looped, "the two passes must agree row for row"
        rows = len(candidates)
        print(f"{n:>9,} | {rows / vector_s:>28,.0f} | {rows / loop_s:>22,.0f} "
              f"| {loop_s / vector_s:>19.1f}x")  # fmt: skip


def main() -> None:
    print(f"bench/gate.py on {machine()}")
    print(f"{'rows':>9} | {'GE gate rows/s':>14} {'peak MB':>8} | {'mask rows/s':>12} "
          f"{'peak MB':>8} | {'GE/mask time':>12}")  # fmt: skip
    judge(curated_rows(100), {})  # import Great Expectations and build its context once
    for n in SIZES:
        rows = curated_rows(n)
        reference = {"S0": 1.0}
        repeat = 3 if n <= 100_000 else 1
        verdict, gate_s, gate_mem = measure(partial(judge, rows, reference), repeat)
        passed, mask_s, mask_mem = measure(partial(mask_gate, rows, reference, 0.5), repeat)
        assert (verdict.passed == passed).all(), "the baseline must agree with the gate"
        reasons = {r: int(verdict.flags[r].sum()) for r in REASONS}
        assert sum(reasons.values()) > 0
        print(f"{n:>9,} | {n / gate_s:>14,.0f} {gate_mem / 2**20:>8.0f} | {n / mask_s:>12,.0f} "
              f"{mask_mem / 2**20:>8.0f} | {gate_s / mask_s:>11.1f}x")  # fmt: skip
    jump_pass_table()


if __name__ == "__main__":
    main()
