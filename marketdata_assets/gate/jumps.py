"""The `price_jump` pass over a tick's clean rows, vectorised: `judge_price`'s decision for
every row, as if judged one by one in event order against the reference, at array speed.

Each symbol's rows depend on the ones before them, symbols never on each other. So the pass
goes in rounds: round k judges every symbol's k-th row (in event order) at once, with numpy
doing `judge_price`'s arithmetic on the symbols' state columns. A tick has one row per symbol,
so one round; when a round is down to a few symbols with many rows each, the rest goes row by
row through `judge_price` itself. `marketdata_tests/test_price_jumps.py` proves the decisions,
the states and the level shifts equal the row-by-row pass on random ticks.

After the pass, each symbol's newest accepted row is the price the latest table is given: the
state keeps its event time and the tick that gave it, unless it is exactly the price and event
time the table was already given (then the earlier tick stays the one that gave it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from marketdata_assets.gate.reference import (
    PriceState,
    Reference,
    States,
    judge_price,
    moment,
    stamp,
)

# Below this many rows in a round, the rest is judged row by row (numpy's fixed cost per call
# outweighs a handful of rows).
ROW_BY_ROW_BELOW = 32
_NAT = np.datetime64("NaT", "us")


@dataclass(frozen=True)
class Jumps:
    """The pass's outcome over the rows it was given."""

    jumped: np.ndarray  # bool per row
    states: States  # the reference after the rows
    level_shifts: dict[str, dict[str, float]]  # symbol -> from, to (its last shift)


@dataclass
class _Columns:
    """The symbols' state columns while the pass runs (`held` false: nothing known yet)."""

    held: np.ndarray
    price: np.ndarray
    pending_price: np.ndarray
    pending_ticks: np.ndarray
    pending_tick: np.ndarray

    def state(self, at: int) -> PriceState | None:
        if not self.held[at]:
            return None
        pending = float(self.pending_price[at])
        return PriceState(
            price=float(self.price[at]),
            pending_price=None if np.isnan(pending) else pending,
            pending_ticks=int(self.pending_ticks[at]),
            pending_tick=moment(self.pending_tick[at]),
        )

    def set(self, at: int, state: PriceState) -> None:
        self.held[at] = True
        self.price[at] = state.price
        self.pending_price[at] = np.nan if state.pending_price is None else state.pending_price
        self.pending_ticks[at] = state.pending_ticks
        self.pending_tick[at] = stamp(state.pending_tick)


def price_jumps(
    symbols: np.ndarray,
    prices: np.ndarray,
    event_ts: np.ndarray,
    ticks: np.ndarray,
    reference: Reference,
    threshold: float,
    confirmations: int,
) -> Jumps:
    """Judge rows (symbols, float64 prices, datetime64[us] UTC event times and ticks) against
    `reference`, in event order (ties in the order given)."""
    before = States.of(reference)
    known = pd.Index(before.symbols).get_indexer(symbols)
    new = pd.unique(symbols[known < 0])
    codes = known.copy()
    codes[known < 0] = len(before) + pd.Index(new).get_indexer(symbols[known < 0])
    every = np.concatenate([before.symbols, np.asarray(new, dtype=object)])
    extra = len(new)
    c = before.columns
    cols = _Columns(
        held=np.concatenate([np.ones(len(before), bool), np.zeros(extra, bool)]),
        price=np.concatenate([c["price"], np.full(extra, np.nan)]),
        pending_price=np.concatenate([c["pending_price"], np.full(extra, np.nan)]),
        pending_ticks=np.concatenate([c["pending_ticks"], np.zeros(extra, "int64")]),
        pending_tick=np.concatenate([c["pending_tick"], np.full(extra, _NAT)]),
    )

    order = np.argsort(event_ts, kind="stable")  # event order; ties keep the rows' order
    grouped = order[np.argsort(codes[order], kind="stable")]  # by symbol, event order within
    starts = np.ones(len(grouped), dtype=bool)
    starts[1:] = codes[grouped][1:] != codes[grouped][:-1]
    positions = np.arange(len(grouped))
    rank = positions - np.maximum.accumulate(np.where(starts, positions, 0))
    by_rank = grouped[np.argsort(rank, kind="stable")]
    jumped = np.zeros(len(symbols), dtype=bool)
    shifts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # rows, code, from, to
    start = 0
    for count in np.bincount(rank).tolist():
        if count < ROW_BY_ROW_BELOW:
            shifts += _row_by_row(
                by_rank[start:], codes, prices, ticks, cols, jumped, threshold, confirmations
            )
            break
        rows = by_rank[start : start + count]
        shifts.append(
            _round(rows, codes[rows], prices, ticks, cols, jumped, threshold, confirmations)
        )
        start += count

    columns = {
        "price": cols.price,
        "pending_price": cols.pending_price,
        "pending_ticks": cols.pending_ticks,
        "pending_tick": cols.pending_tick,
        "event_ts": np.concatenate([c["event_ts"], np.full(extra, _NAT)]),
        "written_tick": np.concatenate([c["written_tick"], np.full(extra, _NAT)]),
    }
    _given(grouped[~jumped[grouped]], codes, prices, event_ts, ticks, before, columns)
    return Jumps(jumped, States(every, columns), _level_shifts(shifts, order, every))


def _round(
    rows: np.ndarray,
    at: np.ndarray,
    prices: np.ndarray,
    ticks: np.ndarray,
    cols: _Columns,
    jumped: np.ndarray,
    threshold: float,
    confirmations: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`judge_price` on rows of distinct symbols (at: their positions), at once."""
    price, tick = prices[rows], ticks[rows]
    held, level = cols.held[at], cols.price[at]
    pending, count, pending_tick = (
        cols.pending_price[at],
        cols.pending_ticks[at],
        cols.pending_tick[at],
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        within = ~held | (np.abs(price / level - 1) <= threshold)
        agrees = ~np.isnan(pending) & (np.abs(price / pending - 1) <= threshold)
    same_tick = agrees & (pending_tick == tick)  # a second row of one tick confirms nothing
    counted = np.where(agrees, count + 1, 1)
    shifted = ~within & ~same_tick & (counted >= confirmations)
    accepted = within | shifted
    jumped[rows] = ~accepted
    cols.held[at] = True
    cols.price[at] = np.where(accepted, price, level)
    cols.pending_price[at] = np.where(accepted, np.nan, price)
    cols.pending_ticks[at] = np.where(accepted, 0, np.where(same_tick, count, counted))
    cols.pending_tick[at] = np.where(accepted, _NAT, np.where(same_tick, pending_tick, tick))
    return rows[shifted], at[shifted], level[shifted], price[shifted]


def _row_by_row(
    rows: np.ndarray,
    codes: np.ndarray,
    prices: np.ndarray,
    ticks: np.ndarray,
    cols: _Columns,
    jumped: np.ndarray,
    threshold: float,
    confirmations: int,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """`judge_price` itself on each of `rows` in turn (each symbol's in event order)."""
    shifts = []
    for row in rows.tolist():
        at = int(codes[row])
        tick = moment(ticks[row])
        assert tick is not None  # a clean row has its tick
        decision = judge_price(cols.state(at), float(prices[row]), tick, threshold, confirmations)
        cols.set(at, decision.state)
        jumped[row] = decision.jumped
        if decision.level_shift:
            shift = decision.level_shift
            shifts.append(
                (np.array([row]), np.array([at]), np.array([shift[0]]), np.array([shift[1]]))
            )
    return shifts


def _given(
    passed: np.ndarray,
    codes: np.ndarray,
    prices: np.ndarray,
    event_ts: np.ndarray,
    ticks: np.ndarray,
    before: States,
    columns: dict[str, np.ndarray],
) -> None:
    """Record each symbol's newest accepted row (`passed`: grouped by symbol, event order) as
    the price the latest table is given, unless the table was given exactly it before."""
    if not len(passed):
        return
    newest = passed[np.r_[codes[passed][1:] != codes[passed][:-1], True]]
    at = codes[newest]
    known = at < len(before)
    unchanged = np.zeros(len(at), dtype=bool)
    was = at[known]
    unchanged[known] = (before.columns["event_ts"][was] == event_ts[newest[known]]) & (
        before.columns["price"][was] == prices[newest[known]]
    )
    columns["event_ts"][at] = event_ts[newest]
    columns["written_tick"][at] = np.where(unchanged, columns["written_tick"][at], ticks[newest])


def _level_shifts(
    shifts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    order: np.ndarray,
    every: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Each shifted symbol's last shift, listed in the event order of its first (as the
    row-by-row pass fills its dict)."""
    if not shifts:
        return {}
    rows, at, old, new = (np.concatenate(parts) for parts in zip(*shifts, strict=True))
    sequence = np.empty(len(order), dtype="int64")
    sequence[order] = np.arange(len(order))
    found: dict[str, dict[str, float]] = {}
    for i in np.argsort(sequence[rows], kind="stable").tolist():
        found[str(every[at[i]])] = {"from": float(old[i]), "to": float(new[i])}
    return found
