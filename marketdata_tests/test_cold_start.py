"""A cold Lambda fetches while it imports: the handler starts the provider's fetch before Dagster
and Great Expectations are imported, the run takes that payload (one request per symbol, not
two), and what lands is what a run fetching for itself lands; a prefetch that raised fails the
tick as that fetch would have. One boto3 client per service per process."""

import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketdata_assets import stores
from marketdata_assets.execution.tick import TickFailed, run_tick
from marketdata_assets.lake import MINUTE_DATASETS
from marketdata_assets.lambda_handler import handler
from marketdata_assets.settings import Settings
from marketdata_tests.provider_server import ProviderServer, Reply, envelopes, serving
from marketdata_tests.test_yahoo_provider import chart_for

ROOT = Path(__file__).resolve().parents[1]
TICK = datetime(2025, 11, 25, 14, 31, tzinfo=UTC)  # the recorded chart's minute
EVENT = {"scheduled_time": "2025-11-25T14:31:00Z"}
SYMBOLS = ["AAPL", "MSFT", "NVDA"]
DATASETS = MINUTE_DATASETS  # every object the tick graph lands

# A fresh interpreter: notes when the `import dagster` and `import great_expectations` that
# load them return (not the nested ones that find them half-loaded), runs the handler once,
# prints both with the result.
COLD_HANDLER = """
import builtins, json, sys, time
imported, real_import = {}, builtins.__import__
def noting(name, *args, **kwargs):
    loads = name in ("dagster", "great_expectations") and name not in sys.modules
    module = real_import(name, *args, **kwargs)
    if loads:
        imported[name] = time.time()
    return module
builtins.__import__ = noting
from marketdata_assets.lambda_handler import handler
assert "dagster" not in sys.modules and "great_expectations" not in sys.modules
result = handler(json.loads(sys.argv[1]), None)
print("COLD " + json.dumps({"imported": imported, "result": result}))
"""


class TimedProviderServer(ProviderServer):
    """Notes when each request arrived (wall clock, comparable across processes)."""

    def __init__(self) -> None:
        super().__init__(lambda path, _: path.rsplit("/", 1)[-1], chart_for)
        self.arrivals: list[float] = []

    def reply(self, path: str) -> tuple[Reply, str]:
        with self.lock:
            self.arrivals.append(time.time())
        return super().reply(path)


@pytest.fixture
def slow_yahoo() -> Iterator[TimedProviderServer]:
    """Yahoo on loopback, each answer a second late: a fetch worth overlapping."""
    server = TimedProviderServer()
    for symbol in SYMBOLS:
        server.answers[symbol] = [(200, chart_for(symbol), 1.0, False)]
    with serving(server):
        yield server


@pytest.mark.system
def test_a_cold_handler_fetches_while_it_imports_dagster_and_ge(
    slow_yahoo: TimedProviderServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "MARKETDATA_DATA_DIR": str(tmp_path),
        "MARKETDATA_PROVIDER": "yahoo",
        "MARKETDATA_SYMBOLS": ",".join(SYMBOLS),
        "MARKETDATA_ALWAYS_OPEN": "1",
        "MARKETDATA_YAHOO_URL": slow_yahoo.url,
    }
    done = subprocess.run(
        [sys.executable, "-c", COLD_HANDLER, json.dumps(EVENT)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(row for row in done.stdout.splitlines() if row.startswith("COLD "))
    cold = json.loads(line.removeprefix("COLD "))
    # Every symbol was requested before Dagster's and GE's imports had finished: the fetch
    # was in flight while they imported.
    assert set(cold["imported"]) == {"dagster", "great_expectations"}
    assert max(slow_yahoo.arrivals) < min(cold["imported"].values())
    # The run took the prefetched payload: one request per symbol, not a second fetch.
    assert sorted(slow_yahoo.requests) == sorted(SYMBOLS)
    result = cold["result"]
    assert (result["raw"], result["validated"], result["provider_errors"]) == (3, 3, 0)
    lines = envelopes(_object(tmp_path, "raw"))
    assert sorted(lines) == sorted(SYMBOLS)
    assert all(line["fetch"]["status"] == 200 for line in lines.values())


@pytest.mark.graph
def test_the_prefetched_tick_lands_the_objects_a_run_fetching_itself_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = {"MARKETDATA_SYMBOLS": "AAPL,MSFT,BAD1", "MARKETDATA_FAULT_RATE": "0.3"}
    for name, value in {**stub, "MARKETDATA_DATA_DIR": str(tmp_path / "lambda")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MARKETDATA_ALWAYS_OPEN", "1")
    prefetched = handler(EVENT, None)
    itself = run_tick(Settings.from_env().with_overrides(data_dir=tmp_path / "cli"), TICK)
    counts = {name: value for name, value in itself.as_dict().items() if name != "duration_ms"}
    assert prefetched.pop("duration_ms") > 0  # each run's own time
    assert prefetched == counts
    for dataset in DATASETS:
        assert _object(tmp_path / "lambda", dataset) == _object(tmp_path / "cli", dataset)


@pytest.mark.graph
def test_a_prefetch_that_raised_fails_the_tick_as_the_fetch_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "missing.jsonl")
    for name, value in {
        "MARKETDATA_DATA_DIR": str(tmp_path / "lambda"),
        "MARKETDATA_PROVIDER": "replay",
        "MARKETDATA_SOURCE": missing,
        "MARKETDATA_ALWAYS_OPEN": "1",
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(TickFailed) as prefetched:
        handler(EVENT, None)
    with pytest.raises(TickFailed) as itself:
        run_tick(Settings.from_env().with_overrides(data_dir=tmp_path / "cli"), TICK)
    assert str(prefetched.value) == str(itself.value)
    assert f"--source {missing!r}: no such file" in str(prefetched.value)
    record = json.loads((tmp_path / "lambda" / "runs" / _minute() / "run.json").read_text())
    assert record["outcome"] == "failed" and record["cause"] in str(itself.value)


@pytest.mark.domain
def test_one_boto3_client_per_service_until_the_aws_environment_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    s3 = stores.aws_client("s3")
    assert stores.aws_client("s3") is s3 and stores.aws_client("dynamodb") is not s3
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    moved = stores.aws_client("s3")
    assert moved is not s3 and moved.meta.endpoint_url == "http://127.0.0.1:2"


def _minute() -> str:
    return f"date={TICK:%Y-%m-%d}/minute={TICK:%H%M}"


def _object(lake: Path, dataset: str) -> bytes:
    """The tick's `dataset` object as a reader gets it (raw is stored gzip-compressed)."""
    (path,) = (lake / dataset / _minute()).iterdir()
    body = path.read_bytes()
    return gzip.decompress(body) if path.suffix == ".gz" else body
