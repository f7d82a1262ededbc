"""What import-linter cannot see: the imports an entry point really makes when it runs (lazy
imports included). Each runs in a fresh interpreter and reports the heavy packages it imported.
The layers themselves are `[tool.importlinter]` in pyproject.toml, checked by `make lint`."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from marketdata_assets.cli import main
from marketdata_assets.lake import LocalObjectStore
from marketdata_assets.market.ticks import floor_minute, format_tick
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import RunOrigin
from marketdata_tests.conftest import TICK
from marketdata_tests.test_history_query import write_lake

pytestmark = pytest.mark.system

HEAVY = ("dagster", "great_expectations", "duckdb", "pyarrow", "pandas")
NEITHER = {"dagster", "great_expectations"}

# Runs `marketdata ARGS` in this fresh interpreter, then reports the heavy packages imported.
CLI = """
import json, sys
from marketdata_assets.cli import main
code = main(sys.argv[2:])
sys.stdout.flush()
print(json.dumps({"code": code, "imported": [m for m in sys.argv[1].split() if m in sys.modules]}))
"""

# Invokes the Lambda handler with each event given, then reports the heavy packages imported.
LAMBDA = """
import json, sys
from marketdata_assets.lambda_handler import handler
answers = [handler(json.loads(event), None) for event in sys.argv[2:]]
print(json.dumps({"answers": answers, "imported": [m for m in sys.argv[1].split()
                                                   if m in sys.modules]}))
"""

# Loads the Dagster code location as `dagster dev` does (workspace.yaml: definitions.defs).
DEFINITIONS = """
import json, sys
from marketdata_assets.definitions import defs
job = defs().resolve_job_def("tick_job").name
print(json.dumps({"job": job, "imported": [m for m in sys.argv[1].split() if m in sys.modules]}))
"""


def fresh(script: str, data_dir: Path, *args: str) -> tuple[dict[str, object], list[str], str]:
    """The report of `script` run in a new interpreter on `data_dir`, what it printed to
    stdout (lines) and to stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETDATA_", "DAGSTER_"))}
    done = subprocess.run(
        [sys.executable, "-c", script, " ".join(HEAVY), *args],
        capture_output=True,
        text=True,
        env={**env, "MARKETDATA_DATA_DIR": str(data_dir)},
    )
    *printed, report = done.stdout.splitlines()
    return json.loads(report), printed, done.stderr


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A local lake holding a stub tick, history tables and a recent Lambda run record."""
    data_dir = tmp_path_factory.mktemp("entry") / "data"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MARKETDATA_DATA_DIR", str(data_dir))
        env.delenv("DAGSTER_HOME", raising=False)
        assert main(["tick", "--at", format_tick(TICK), "--json"]) == 0
    write_lake(data_dir)
    recent = floor_minute(datetime.now(UTC)) - timedelta(minutes=1)
    record = run_records.new_record(recent, RunOrigin("lambda", "r9"), "succeeded", validated=7)
    run_records.write(LocalObjectStore(data_dir), record)
    return data_dir, record


def test_the_cli_read_commands_import_neither_dagster_nor_great_expectations(lake) -> None:
    data_dir, record = lake
    report, printed, _ = fresh(CLI, data_dir, "latest", "--json")
    assert report["code"] == 0 and len(json.loads(printed[0])) == 10
    assert not NEITHER & set(report["imported"])
    report, printed, _ = fresh(CLI, data_dir, "quarantine", "--json", "--tick", format_tick(TICK))
    assert report["code"] == 0 and isinstance(json.loads(printed[0]), list)
    assert not NEITHER & set(report["imported"])
    report, printed, _ = fresh(CLI, data_dir, "bars", "AAPL", "--interval", "1h", "--json")
    assert report["code"] == 0 and len(json.loads(printed[0])) == 4
    assert "duckdb" in report["imported"] and not NEITHER & set(report["imported"])
    report, printed, _ = fresh(CLI, data_dir, "analytics", "AAPL", "--json")
    assert report["code"] == 0 and len(json.loads(printed[0])) == 5
    assert not NEITHER & set(report["imported"])
    report, printed, _ = fresh(CLI, data_dir, "status", "--json")
    ticked = run_records.read(LocalObjectStore(data_dir), TICK)
    assert ticked is not None and report["code"] == 0
    assert json.loads(printed[0]) == [run_records.status_row(r) for r in (record, ticked)]
    assert not NEITHER & set(report["imported"])


def test_bad_read_input_is_refused_before_any_heavy_package_is_imported(lake) -> None:
    data_dir, _ = lake
    report, printed, err = fresh(CLI, data_dir, "bars", "AAPL", "--interval", "2m")
    assert (report["code"], report["imported"], printed) == (2, [], [])
    assert err == "marketdata: error: --interval '2m': must be one of 1m, 5m, 15m, 1h, 1d\n"


def test_the_lambda_s_skips_import_neither_dagster_nor_great_expectations(tmp_path) -> None:
    """A closed-market minute and a redelivered event of a succeeded tick: both answered from
    the calendar and the run records alone."""
    data_dir = tmp_path / "data"
    first = run_records.new_record(TICK, RunOrigin("lambda", "r1"), "succeeded", validated=10)
    run_records.write(LocalObjectStore(data_dir), first)
    saturday = {"time": "2026-11-28T15:00:00Z"}
    again = {"time": TICK.isoformat().replace("+00:00", "Z")}
    report, _, _ = fresh(LAMBDA, data_dir, json.dumps(saturday), json.dumps(again))
    assert report["answers"] == [
        {"skipped": run_records.MARKET_CLOSED, "tick": "2026-11-28T15:00Z"},
        {"skipped": run_records.DUPLICATE_DELIVERY, "tick": format_tick(TICK)},
    ]
    assert not NEITHER & set(report["imported"])


def test_loading_the_definitions_imports_no_great_expectations(tmp_path) -> None:
    """Great Expectations is imported by a run's gate, not by loading the code location."""
    report, _, _ = fresh(DEFINITIONS, tmp_path / "data")
    assert report["job"] == "tick_job" and "dagster" in report["imported"]
    assert "great_expectations" not in report["imported"]
