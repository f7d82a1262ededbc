"""Benchmark: a `file` history source's memory against the file's decoded size (issue 20, item 2).

Writes the stub's 1-minute bars of N symbols over a run of sessions as one Parquet file and the
same rows as one CSV file, then, in this process: the decoded Arrow table's size
(`pyarrow.parquet.read_table(...).nbytes`), and the peak resident-memory growth of building the
source (`FileHistory`: the one parse a backfill makes) and of fetching every session from it,
as a ratio to the decoded size (the target: at most 3x). Also counts the parses of a second
source of the same file (the cache: none). Never a pass/fail gate.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from _measure import machine, measure  # noqa: E402

from marketdata_assets.market.calendar import session_minutes, sessions_in  # noqa: E402
from marketdata_assets.providers.file import table  # noqa: E402
from marketdata_assets.providers.file.history import FileHistory  # noqa: E402


def bars(sessions: list[date], symbols: list[str]) -> pd.DataFrame:
    """A random walk per symbol on every session minute (what a vendor's export holds)."""
    starts = pd.DatetimeIndex(np.concatenate([session_minutes(s).as_unit("us") for s in sessions]))
    count = len(starts) * len(symbols)
    rng = np.random.default_rng(7)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 1e-3, count))), 2)
    return pd.DataFrame(
        {
            "symbol": np.repeat(symbols, len(starts)),
            "ts": np.tile(starts, len(symbols)),
            "open": close,
            "high": close + 0.05,
            "low": close - 0.05,
            "close": close,
            "volume": rng.integers(100, 10_000, count).astype(np.float64),
        }
    )


def counted(
    real: Callable[[str, str], table.FileTable], parses: list[tuple[str, str]], *args: str
) -> table.FileTable:
    parses.append((args[0], args[1]))
    return real(*args)


def fetch_all(source: FileHistory, sessions: list[date], symbols: list[str]) -> int:
    return sum(len(source.fetch(day, symbols)) for day in sessions)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 sessions x 20 symbols")
    quick = parser.parse_args().quick
    sessions = sessions_in(date(2025, 1, 1), date(2025, 12, 31))[: 5 if quick else 40]
    symbols = [f"S{i:03d}" for i in range(20 if quick else 100)]
    print(f"bench/file_source.py on {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-file-") as tmp:
        frame = bars(sessions, symbols)
        parquet, csv = Path(tmp) / "bars.parquet", Path(tmp) / "bars.csv"
        frame.to_parquet(parquet)
        frame.assign(ts=frame["ts"].map(lambda ts: ts.isoformat())).to_csv(csv, index=False)
        del frame
        gc.collect()
        print(f"{len(sessions)} sessions x {len(symbols)} symbols: ", end="")
        decoded, _, decode_peak = measure(lambda: pq.read_table(parquet).nbytes)
        print(f"{decoded / 2**20:.1f} MB decoded (read_table peak {decode_peak / 2**20:.1f} MB)")
        print(
            f"{'file':<8} {'size MB':>8} {'rows':>10} | {'parse s':>7} {'peak MB':>8} "
            f"{'x decoded':>9} | {'fetch all s':>11} {'peak MB':>8} {'x decoded':>9} | parses"
        )
        for path in (parquet, csv):
            table._cached.cache_clear()
            gc.collect()
            source, parse_s, parse_peak = measure(partial(FileHistory, str(path)))
            parses: list[tuple[str, str]] = []
            real = table.parse
            table.parse = partial(counted, real, parses)
            again = FileHistory(str(path))  # the next batch of the same backfill
            table.parse = real
            began = time.perf_counter()
            _, _, fetch_peak = measure(partial(fetch_all, again, sessions, symbols))
            fetch_s = time.perf_counter() - began
            print(
                f"{path.suffix[1:]:<8} {path.stat().st_size / 2**20:>8.1f} "
                f"{len(source._table):>10,} | "
                f"{parse_s:>7.2f} {parse_peak / 2**20:>8.1f} {parse_peak / decoded:>8.2f}x | "
                f"{fetch_s:>11.2f} {fetch_peak / 2**20:>8.1f} {fetch_peak / decoded:>8.2f}x | "
                f"{len(parses)} more"
            )
            del source, again


if __name__ == "__main__":
    main()
