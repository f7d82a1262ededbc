"""Benchmark: a whole session without drift (issue 23). 390 consecutive minute ticks of 500 stub
symbols through the Lambda handler in one warm process, as a warm Lambda container runs them,
against moto's server in its own process (so this process's memory is the tick's alone, not
the emulated bucket's). Per tick: wall time, resident memory, threads, open file handles, and
the S3 listings with the keys they returned (from `lake.aws_requests`).

It prints the curves as a compact table (every `--every`th tick) and the figures the issue asks
for: memory growth from tick 10 to the last, the per-tick time's slope, the listing's keys per
tick, threads and handles at tick 10 and at the end; and writes a PNG of the curves (`--plot`).
`--ticks N --symbols N` shorten it. Never a pass/fail gate.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _measure import machine  # noqa: E402

OPEN = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # 09:30 in New York: a whole session follows
BASE = 10  # the tick memory growth is measured from (imports and pools warmed by then)
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MARKETDATA_PROFILE": "aws",
    "MARKETDATA_BUCKET": "soak-lake",
    "MARKETDATA_TABLE": "soak-latest",
    "MARKETDATA_ALWAYS_OPEN": "1",
    "MARKETDATA_LOG_LEVEL": "CRITICAL",
}
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Sample:
    """One tick, measured after it returned."""

    tick: int
    seconds: float
    rss_mb: float
    threads: int  # the process's threads (native ones included)
    handles: int  # open file descriptors (sockets included)
    listings: int  # S3 ListObjectsV2 requests
    listed: int  # keys and folders those listings returned
    s3_requests: int


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE / 2**20


def threads() -> int:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("Threads:"))


def handles() -> int:
    return len(os.listdir("/proc/self/fd"))


def soak(ticks: int, symbols: int) -> list[Sample]:
    """Run `ticks` consecutive ticks of `symbols` stub symbols through the handler (AWS clients
    pointed at the endpoint already in the environment); one Sample a tick. Interrupted
    (SIGINT), it returns the ticks measured so far."""
    os.environ["MARKETDATA_SYMBOLS"] = ",".join(f"S{n:04d}" for n in range(symbols))
    samples: list[Sample] = []
    try:
        for n in range(ticks):
            samples.append(one_tick(n, symbols))
            print("sample", *vars(samples[-1]).values(), file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(f"interrupted after {len(samples)} ticks", flush=True)
    return samples


def one_tick(n: int, symbols: int) -> Sample:
    """The session's `n`th tick (from 0) through the Lambda handler, measured."""
    from marketdata_assets.lake import aws_requests
    from marketdata_assets.lambda_handler import handler

    before = aws_requests.snapshot()
    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the handler's one metrics line a tick
        result = handler({"time": (OPEN + timedelta(minutes=n)).isoformat()}, None)
    seconds = time.perf_counter() - began
    spent = aws_requests.since(before)
    assert result["raw"] == result["validated"] == symbols, result
    s3 = sum(count for name, count in spent.requests.items() if name.startswith("s3."))
    lists = spent.requests.get("s3.ListObjectsV2", 0)
    return Sample(n + 1, seconds, rss_mb(), threads(), handles(), lists, spent.listed, s3)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server in its own process on a loopback port, with the bucket and the table."""
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    server = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.05)
        os.environ["AWS_ENDPOINT_URL"] = url
        import boto3

        boto3.client("s3").create_bucket(Bucket=ENV["MARKETDATA_BUCKET"])
        boto3.client("dynamodb").create_table(
            TableName=ENV["MARKETDATA_TABLE"],
            KeySchema=[{"AttributeName": "symbol", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "symbol", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def slope(samples: list[Sample]) -> float:
    """The per-tick time's least-squares slope, seconds per tick, from tick BASE on."""
    kept = samples[BASE - 1 :]
    fit = statistics.linear_regression([s.tick for s in kept], [s.seconds for s in kept])
    return fit.slope


def report(samples: list[Sample], every: int) -> None:
    print(f"{'tick':>5} {'s':>6} {'RSS MB':>7} {'threads':>7} {'fds':>4} {'lists':>5} {'keys':>5}")
    for s in samples:
        if s.tick in (1, BASE) or s.tick % every == 0 or s is samples[-1]:
            print(
                f"{s.tick:>5} {s.seconds:>6.2f} {s.rss_mb:>7.1f} {s.threads:>7} {s.handles:>4} "
                f"{s.listings:>5} {s.listed:>5}"
            )
    base, last = samples[BASE - 1], samples[-1]
    later = samples[BASE - 1 :]
    mean = statistics.fmean(s.seconds for s in later)
    print(
        f"memory: {base.rss_mb:.1f} MB at tick {BASE}, {last.rss_mb:.1f} MB at tick {last.tick}:"
        f" {last.rss_mb - base.rss_mb:+.1f} MB (issue 23 target: at most +50 MB)"
    )
    per_tick = slope(samples)
    print(
        f"tick time: mean {mean:.2f} s from tick {BASE}, slope {per_tick * 1000:+.2f} ms a tick"
        f" ({per_tick * len(later) / mean * 100:+.1f} % of the mean over the session)"
    )
    print(
        f"S3 listings a tick: {min(s.listings for s in later)}-{max(s.listings for s in later)}"
        f", keys returned {min(s.listed for s in later)}-{max(s.listed for s in later)}"
        f" (first tick: {samples[0].listings} listings, {samples[0].listed} keys);"
        f" S3 requests a tick {min(s.s3_requests for s in later)}-"
        f"{max(s.s3_requests for s in later)}"
    )
    print(
        f"threads {base.threads} -> {last.threads}, file handles {base.handles} -> "
        f"{last.handles} (tick {BASE} -> {last.tick}); Python threads now "
        f"{threading.active_count()}"
    )


def plot(samples: list[Sample], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ticks = [s.tick for s in samples]
    figure, axes = plt.subplots(4, 1, figsize=(8, 10), sharex=True)
    curves = [
        ("resident memory, MB", [s.rss_mb for s in samples]),
        ("tick time, s", [s.seconds for s in samples]),
        ("keys S3 listings returned", [s.listed for s in samples]),
    ]
    for axis, (label, values) in zip(axes, curves, strict=False):
        axis.plot(ticks, values, linewidth=1)
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[3].plot(ticks, [s.threads for s in samples], label="threads", linewidth=1)
    axes[3].plot(ticks, [s.handles for s in samples], label="open file handles", linewidth=1)
    axes[3].legend()
    axes[3].grid(alpha=0.3)
    axes[3].set_xlabel("tick of the session (one a minute)")
    figure.suptitle(f"{len(samples)} ticks of one warm process")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _option(name: str, default: str) -> str:
    args = sys.argv[1:]
    return args[args.index(name) + 1] if name in args else default


def main() -> None:
    ticks, symbols = int(_option("--ticks", "390")), int(_option("--symbols", "500"))
    every = int(_option("--every", "30"))
    path = Path(_option("--plot", "soak.png"))
    os.environ.update(ENV)
    print(f"bench/soak.py on {machine()}: {ticks} ticks of {symbols} symbols")
    with moto_server():
        samples = soak(ticks, symbols)
    report(samples, every)
    plot(samples, path)
    print(f"plot: {path.resolve()}")


if __name__ == "__main__":
    main()
