"""Benchmark: a year of 1-minute bars through the history path, beside ArcticDB on LMDB.

Three workloads (issue 11): backfill 252 sessions x 100 symbols from the stub through the bars
gate into a local lake (`marketdata backfill` in a child process: wall time and peak RSS); read
one symbol's year of 1-minute bars (`history.query.bars`, an Arrow table), over the session
objects and then over the compacted months (`history.compacted`, written after the backfill);
aggregate one session x 500 symbols to 5-minute bars. The same bars, generated once with the
stub and saved as Parquet, go into ArcticDB (one library per dataset, one ArcticDB symbol per
ticker) in its own environment (`.tools/arcticdb`: it requires pandas < 3), a child process that
prints JSON timings back. Both sides' answers are compared before any figure is printed. Never a
pass/fail gate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _measure import machine  # noqa: E402

from marketdata_assets.defs.partitions import SESSIONS_PER_RUN  # noqa: E402
from marketdata_assets.execution import parallel  # noqa: E402
from marketdata_assets.history.compacted import compact, month_of  # noqa: E402
from marketdata_assets.history.query import bars  # noqa: E402
from marketdata_assets.market.calendar import session_bounds, sessions_in  # noqa: E402
from marketdata_assets.providers.history_parse import parse_history  # noqa: E402
from marketdata_assets.providers.stub.history import StubHistory  # noqa: E402
from marketdata_assets.settings import Settings  # noqa: E402
from marketdata_assets.stores import lake_store  # noqa: E402

T = TypeVar("T")
LAST_SESSION = date(2026, 11, 25)
SEED = 7
REPEAT = 3
ARCTIC_ENV = ROOT / ".tools" / "arcticdb"
ARCTIC_PACKAGES = ("arcticdb==6.28.2", "pyarrow==26.0.1")
BAR_COLUMNS = ("open", "high", "low", "close", "volume")
# What the backfill command imports before its first session: its fixed cost.
STARTUP = "import marketdata_assets.cli, marketdata_assets.execution.backfill, great_expectations"


@dataclass(frozen=True)
class Scale:
    sessions: int  # ending LAST_SESSION
    symbols: int  # with a bar in every minute of every session
    wide: int  # symbols of the last session, aggregated to 5-minute bars


FULL = Scale(sessions=252, symbols=100, wide=500)
QUICK = Scale(sessions=21, symbols=20, wide=100)

# ArcticDB's half, run by the interpreter of its own environment: `write` or `query`, then a JSON
# job; prints one JSON object of timings and checksums.
ARCTIC = """
import json, resource, sys, time
import arcticdb as adb
import pandas as pd
import pyarrow.parquet as pq

mode, job = sys.argv[1], json.loads(sys.argv[2])
store = adb.Arctic(f"lmdb://{job['db']}?map_size=16GB")


def by_symbol(folder):
    began = time.perf_counter()
    frame = pq.read_table(folder).to_pandas()
    frame["start"] = frame["start"].dt.tz_convert(None).astype("datetime64[ns]")
    columns = job["columns"]
    frames = {s: f.set_index("start")[columns] for s, f in frame.groupby("symbol", sort=True)}
    return frames, time.perf_counter() - began


def write(library, frames):
    began = time.perf_counter()
    library.write_batch([adb.WritePayload(s, f) for s, f in frames.items()])
    return time.perf_counter() - began


def best(work):
    times = []
    for _ in range(job["repeat"]):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return result, min(times)


if mode == "write":
    year = store.create_library("minute_bars")
    frames, load_s = by_symbol(job["year"])
    rows = sum(len(f) for f in frames.values())
    write_s = write(year, frames)
    del frames
    extra, extra_load_s = by_symbol(job["wide"])
    extra_s = write(year, extra)
    print(json.dumps({"rows": rows, "load_s": load_s, "write_s": write_s,
                      "wide_rows": sum(len(f) for f in extra.values()),
                      "wide_load_s": extra_load_s, "wide_write_s": extra_s}))
else:
    year = store.get_library("minute_bars")
    one, read_s = best(lambda: year.read(job["symbol"]).data)
    session = (pd.Timestamp(job["open"]).tz_convert(None),
               pd.Timestamp(job["close"]).tz_convert(None) - pd.Timedelta(1, "ns"))
    q = adb.QueryBuilder().resample("5min").agg({
        "open": ("open", "first"), "high": ("high", "max"), "low": ("low", "min"),
        "close": ("close", "last"), "volume": ("volume", "sum")})
    requests = [adb.ReadRequest(s, date_range=session, query_builder=q) for s in job["wide"]]
    five, aggregate_s = best(lambda: [item.data for item in year.read_batch(requests)])
    print(json.dumps({
        "read_s": read_s, "read_rows": len(one), "read_close": float(one["close"].sum()),
        "aggregate_s": aggregate_s, "aggregate_rows": sum(len(f) for f in five),
        "aggregate_close": float(sum(f["close"].sum() for f in five)),
        "aggregate_volume": int(sum(f["volume"].sum() for f in five)),
    }))
"""


@dataclass(frozen=True)
class Child:
    stdout: str
    seconds: float  # wall time from start to exit
    peak_rss: int  # bytes: the peak of the process tree's summed resident sets
    peak_pss: int = 0  # bytes: the same with shared pages split between their processes


def run_child(argv: Sequence[str], env: dict[str, str] | None = None) -> Child:
    """Run one process to its end, sampling the resident memory of it and its descendants (a
    backfill's workers) while it runs: the peak of their sum.

    Not rusage: Linux carries the pre-exec high-water mark into a spawned child's `ru_maxrss`,
    so it would report at least this (large) process's own peak; and it sees no grandchildren.
    Summed RSS counts pages the workers share with their parent (forked after its imports) once
    per process; PSS splits them, so it is what the tree costs the machine."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        peak_rss = peak_pss = 0
        while process.poll() is None:
            rss, pss = _tree_memory(process.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        if process.returncode:
            tail = (out.read() + err.read()).decode(errors="replace")[-3000:]
            raise SystemExit(f"{' '.join(argv[:3])} … exited {process.returncode}:\n{tail}")
        return Child(out.read().decode(), seconds, peak_rss, peak_pss)


def _tree_memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes, summed over `root` and its descendants (0 for those gone)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    parents[int(entry.name)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    rss = pss = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


def tickers(count: int, first: int = 0) -> list[str]:
    return [f"S{i:03d}" for i in range(first, first + count)]


def generate(folder: Path, sessions: Sequence[date], symbols: Sequence[str]) -> int:
    """The stub's bars of `symbols` in `sessions`, one Parquet file per session; rows written."""
    folder.mkdir(parents=True)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        counts = pool.map(partial(_generate_session, folder, symbols), sessions)
        return sum(counts)


def _generate_session(folder: Path, symbols: Sequence[str], session: date) -> int:
    stub = StubHistory(seed=SEED)
    candidates = parse_history(stub.fetch(session, symbols), session).candidates
    assert candidates["problem"].isna().all(), f"{session}: the stub delivered a bad row"
    frame = candidates[["symbol", "start", *BAR_COLUMNS]].astype({"volume": "int64"})
    frame.to_parquet(folder / f"{session.isoformat()}.parquet", index=False)
    return len(frame)


def backfill(
    lake: Path, first: date, last: date, symbols: Sequence[str], workers: int | None = None
) -> tuple[dict, Child]:
    """`marketdata backfill` from the stub into the local lake at `lake`, `workers` batches at
    once (None: the default, the cores): its JSON summary."""
    command = [
        str(Path(sys.executable).parent / "marketdata"),
        *("backfill", "--from", first.isoformat(), "--to", last.isoformat()),
        *("--symbols", ",".join(symbols), "--provider", "stub", "--json"),
    ]
    env = {**os.environ, "MARKETDATA_DATA_DIR": str(lake), "MARKETDATA_SEED": str(SEED)}
    env.pop("MARKETDATA_BACKFILL_CONCURRENCY", None)
    env.pop("DAGSTER_HOME", None)  # each lake's own instance, beside it
    if workers is not None:
        env["MARKETDATA_BACKFILL_CONCURRENCY"] = str(workers)
    done = run_child(command, env)
    summary = json.loads(done.stdout)
    assert not summary["failed"], summary["failed"]
    return summary, done


def lake_objects(lake: Path) -> dict[str, str]:
    """Every object of a lake folder (locks aside) and its content's digest."""
    import hashlib

    return {
        str(path.relative_to(lake)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(lake.rglob("*"))
        if path.is_file() and ".locks" not in path.parts
    }


def backfill_line(label: str, rows: int, sessions: int, done: Child, imports_s: float) -> str:
    working = done.seconds - imports_s
    return (
        f"backfill, {label}: {done.seconds:.1f} s, {rows / done.seconds:,.0f} bars/s; "
        f"{rows / working:,.0f} bars/s ({working / sessions:.2f} s a session) after the "
        f"{imports_s:.1f} s of imports; peak of the process tree {_mb(done.peak_rss)} MB RSS, "
        f"{_mb(done.peak_pss)} MB PSS"
    )


def best(work: Callable[[], T], repeat: int = REPEAT) -> tuple[T, float]:
    """The last result and the best wall time of `repeat` runs."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return result, min(times)


def arctic_python() -> Path:
    """The interpreter of ArcticDB's own environment, created on first use."""
    python = ARCTIC_ENV / "bin" / "python"
    if not python.exists():
        print(f"creating {ARCTIC_ENV.relative_to(ROOT)} ({', '.join(ARCTIC_PACKAGES)})")
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(ARCTIC_ENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *ARCTIC_PACKAGES], check=True)
    return python


def arctic(mode: str, job: dict[str, Any]) -> tuple[dict[str, Any], Child]:
    done = run_child([str(arctic_python()), "-c", ARCTIC, mode, json.dumps(job)])
    return json.loads(done.stdout), done


def ours_read(settings: Settings, symbol: str, first: date, last: date) -> dict[str, Any]:
    """One symbol's year as the read returns it (an Arrow table: columns, as ArcticDB's frame),
    the first read (the compacted months' footers parsed) and the best of `REPEAT` after it."""
    lake = lake_store(settings)
    began = time.perf_counter()
    bars(lake, symbol, "1m", first, last)
    cold = time.perf_counter() - began
    history, seconds = best(lambda: bars(lake, symbol, "1m", first, last))
    table = history.table
    rows, close = table.num_rows, math.fsum(table.column("close").to_pylist())
    _, as_rows = best(lambda: bars(lake, symbol, "1m", first, last).rows)
    return {
        "read_s": seconds,
        "read_cold_s": cold,
        "read_dicts_s": as_rows,
        "read_rows": rows,
        "read_close": close,
    }


def compact_months(settings: Settings, sessions: Sequence[date]) -> float:
    """Compact every month of `sessions` (as `minute_bars_monthly` does): seconds."""
    lake = lake_store(settings)
    began = time.perf_counter()
    for month in sorted({month_of(session) for session in sessions}):
        compact(lake, "minute_bars", month)
    return time.perf_counter() - began


def ours_aggregate(settings: Settings, session: date) -> dict[str, Any]:
    """Every symbol of `session` (the lake holds the wide set there) in 5-minute bars."""
    lake = lake_store(settings)
    history, seconds = best(lambda: bars(lake, None, "5m", session, session))
    frame = history.table.to_pandas()
    return {
        "aggregate_s": seconds,
        "aggregate_rows": len(frame),
        "aggregate_close": math.fsum(frame["close"]),
        "aggregate_volume": int(frame["volume"].sum()),
    }


def agree(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Both stores answered the same question: same row counts, same sums."""
    for key in ("read_rows", "aggregate_rows", "aggregate_volume"):
        assert ours[key] == theirs[key], f"{key}: ours {ours[key]}, ArcticDB {theirs[key]}"
    for key in ("read_close", "aggregate_close"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-9), (key, ours[key], theirs[key])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK.sessions} sessions x {QUICK.symbols} symbols, {QUICK.wide} aggregated",
    )
    parser.add_argument(
        "--backfill-only",
        action="store_true",
        help="only the backfills (one batch at a time, then in parallel) and their comparison",
    )
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    sessions = sessions_in(date(LAST_SESSION.year - 2, 1, 1), LAST_SESSION)[-scale.sessions :]
    first, last = sessions[0], sessions[-1]
    symbols = tickers(scale.symbols)
    extra = tickers(scale.wide - scale.symbols, scale.symbols)
    print(f"bench/history.py on {machine()}; load average {_load()}")
    print(
        f"{scale.sessions} sessions {first}..{last} x {scale.symbols} symbols of 1-minute bars; "
        f"{scale.wide} symbols on {last}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        folder = Path(tmp)
        rows = generate(folder / "year", sessions, symbols)
        wide_rows = generate(folder / "wide", [last], extra)

        started = run_child([sys.executable, "-c", STARTUP])
        print(f"load average before the backfills: {_load()}")
        one, sequential = backfill(folder / "sequential" / "lake", first, last, symbols, 1)
        print(backfill_line("1 batch at a time", rows, len(sessions), sequential, started.seconds))
        print(f"load average: {_load()}")
        summary, backfilled = backfill(folder / "lake", first, last, symbols)
        workers = min(parallel.cores(), math.ceil(len(sessions) / SESSIONS_PER_RUN))
        label = f"{workers} batches at once"
        print(backfill_line(label, rows, len(sessions), backfilled, started.seconds))
        print(f"load average: {_load()}")
        for done in (one, summary):
            assert done["validated"] == rows and done["quarantined"] == 0, done
        same = lake_objects(folder / "sequential" / "lake") == lake_objects(folder / "lake")
        assert same, "the parallel backfill wrote other objects than the sequential one"
        print("the two backfills wrote the same objects, byte for byte")
        if args.backfill_only:
            return
        widened, added = backfill(folder / "lake", last, last, [*symbols, *extra])
        assert widened["quarantined"] == 0, widened
        settings = Settings.from_env({"MARKETDATA_DATA_DIR": str(folder / "lake")})
        bars(lake_store(settings), symbols[0], "1m", last, last)  # DuckDB's first connection, once
        sessions_only = ours_read(settings, symbols[0], first, last)
        compaction_s = compact_months(settings, sessions)
        ours = ours_read(settings, symbols[0], first, last)
        assert (ours["read_rows"], ours["read_close"]) == (
            sessions_only["read_rows"],
            sessions_only["read_close"],
        ), (ours, sessions_only)
        ours |= ours_aggregate(settings, last)

        opened, closed = session_bounds(last)
        job = {
            "db": str(folder / "arcticdb"),
            "year": str(folder / "year"),
            "wide": str(folder / "wide"),
            "columns": list(BAR_COLUMNS),
            "repeat": REPEAT,
        }
        written, writer = arctic("write", job)
        assert (written["rows"], written["wide_rows"]) == (rows, wide_rows), written
        job |= {"symbol": symbols[0], "wide": [*symbols, *extra]}
        job |= {"open": opened.isoformat(), "close": closed.isoformat()}
        theirs, _ = arctic("query", job)
        agree(ours, theirs)

    arctic_write_s = written["load_s"] + written["write_s"]
    print(
        f"{'workload':<52} | {'ours s':>7} {'peak MB':>8} | {'ArcticDB s':>10} {'peak MB':>8} | "
        f"{'ours/ArcticDB':>13} | target"
    )
    lines = [
        (
            f"backfill {rows:,} bars (ArcticDB: Parquet + write)",
            backfilled.seconds,
            backfilled.peak_rss,
            arctic_write_s,
            writer.peak_rss,
            "40 s, 1.5 GB",
        ),
        (
            f"read {symbols[0]}'s {ours['read_rows']:,} bars, {len(sessions)} session files",
            sessions_only["read_s"],
            None,
            theirs["read_s"],
            None,
            "",
        ),
        (
            f"read {symbols[0]}'s {ours['read_rows']:,} bars, compacted months",
            ours["read_s"],
            None,
            theirs["read_s"],
            None,
            "0.03 s",
        ),
        (
            f"aggregate {last} x {scale.wide} symbols to 5m",
            ours["aggregate_s"],
            None,
            theirs["aggregate_s"],
            None,
            "0.5 s",
        ),
    ]
    for label, mine, my_rss, other, other_rss, target in lines:
        print(
            f"{label:<52} | {mine:>7.2f} {_mb(my_rss):>8} | {other:>10.3f} {_mb(other_rss):>8} | "
            f"{mine / other:>12.2f}x | {target}"
        )
    working = backfilled.seconds - started.seconds
    print(
        f"backfill: {rows / backfilled.seconds:,.0f} bars/s; its imports alone take "
        f"{started.seconds:.1f} s, so {rows / working:,.0f} bars/s ({working / len(sessions):.2f} "
        f"s a session) after them; ArcticDB: Parquet load {written['load_s']:.2f} s + write "
        f"{written['write_s']:.2f} s"
    )
    print(
        f"adding {len(extra)} symbols to {last}: backfill {added.seconds:.1f} s, "
        f"ArcticDB {written['wide_load_s'] + written['wide_write_s']:.2f} s"
    )
    print(
        f"compacting {len({month_of(s) for s in sessions})} months: {compaction_s:.1f} s; the "
        f"compacted read's first call {ours['read_cold_s'] * 1000:.1f} ms (footers parsed), "
        f"best {ours['read_s'] * 1000:.1f} ms, as dicts {ours['read_dicts_s'] * 1000:.0f} ms; "
        f"over session files {sessions_only['read_s'] * 1000:.0f} ms "
        f"({sessions_only['read_s'] / ours['read_s']:.1f}x the compacted)"
    )
    print(f"load average at the end: {_load()}")


def _load() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


def _mb(size: int | None) -> str:
    return "" if size is None else f"{size / 2**20:,.0f}"


if __name__ == "__main__":
    main()
