"""The real Dagster webserver loads the workspace: assets, checks, jobs, schedules, and the
history's session partitions."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from marketdata_assets.market_hours import sessions_in
from marketdata_tests.conftest import free_port

pytestmark = pytest.mark.slow  # real servers, subprocesses or Terraform

ROOT = Path(__file__).resolve().parents[1]
QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    partitionKeys
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes { jobs { name } schedules { name scheduleState { status } } }
    }
  }
}
"""


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MARKETDATA_DATA_DIR": str(home / "data"),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # readiness poll, not a performance limit
            if server.poll() is not None:
                raise RuntimeError(f"webserver exited: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_webserver_loads_the_tick_graph_checks_job_and_schedule(webserver: str) -> None:
    data = _post(f"{webserver}/graphql", QUERY)["data"]
    nodes = {tuple(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    ticks = {
        ("raw_ticks",),
        ("curated_ticks",),
        ("validated_ticks",),
        ("quarantined_ticks",),
        ("price_reference",),
        ("latest_prices",),
    }
    history = {
        ("raw_history",),
        ("minute_bars",),
        ("bars_quarantine",),
        ("daily_bars",),
        ("session_analytics",),
        ("validated_daily",),
    }
    forecasts = {("forecast_skill",), ("price_forecasts",)}
    assert set(nodes) == ticks | history | forecasts
    assert {nodes[key]["groupName"] for key in ticks} == {"ticks"}
    assert {nodes[key]["groupName"] for key in history} == {"history"}
    assert {nodes[key]["groupName"] for key in forecasts} == {"forecasts"}
    assert all(nodes[key]["partitionKeys"] == [] for key in ticks)  # a tick is a run tag
    sessions = [day.isoformat() for day in sessions_in(date(2026, 11, 2), date(2026, 11, 25))]
    # one partition per NYSE session: Thanksgiving and weekends absent
    for key in history | forecasts:
        keys = nodes[key]["partitionKeys"]
        assert keys[keys.index("2026-11-02") : keys.index("2026-11-25") + 1] == sessions
        assert keys[0] == "2010-01-04"
    checks = {
        (path[0], c["name"]): c["blocking"]
        for path, n in nodes.items()
        for c in n["assetChecksOrError"]["checks"]
    }
    assert checks == {
        ("raw_ticks", "provider_delivered"): True,
        ("curated_ticks", "schema_contract"): True,
        ("validated_ticks", "expectation_suite"): True,
        ("quarantined_ticks", "quarantine_share"): False,
        ("minute_bars", "bars_conservation"): True,
        ("minute_bars", "bars_contract"): True,
        ("forecast_skill", "no_leakage"): True,
        ("price_forecasts", "interval_coverage"): False,
        ("latest_prices", "fresh_in_session"): False,
    }
    (repository,) = data["repositoriesOrError"]["nodes"]
    jobs = {"tick_job", "history_job", "compaction_job", "freshness_job"}
    assert jobs <= {j["name"] for j in repository["jobs"]}
    assert sorted((s["name"], s["scheduleState"]["status"]) for s in repository["schedules"]) == [
        ("compaction_job_schedule", "STOPPED"),
        ("freshness_schedule", "STOPPED"),
        ("tick_schedule", "STOPPED"),
    ]
