"""The real Dagster webserver loads the workspace: assets, checks, jobs, schedules, and the
history's session partitions."""

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from marketdata_assets.market.calendar import sessions_in
from marketdata_tests.dagster_server import dagster_webserver

pytestmark = pytest.mark.system


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
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The webserver's instance folder; its lake is the folder's data/."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


@pytest.fixture(scope="module")
def webserver(dagster_home: Path) -> Iterator[str]:
    with dagster_webserver(dagster_home) as base:
        yield base


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
        ("corporate_actions",),
        ("actions_quarantine",),
        ("minute_bars_monthly",),
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
        ("latest_prices", "rows_written"): False,
        ("minute_bars", "bars_conservation"): True,
        ("minute_bars", "bars_contract"): True,
        ("corporate_actions", "actions_conservation"): True,
        ("corporate_actions", "actions_contract"): True,
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


PRODUCTION_TICK = """
{
  assetOrError(assetKey: {path: ["validated_ticks"]}) {
    ... on Asset {
      assetMaterializations(limit: 1) {
        runId
        tags { key value }
        metadataEntries {
          label
          ... on IntMetadataEntry { intValue }
          ... on TextMetadataEntry { text }
        }
      }
    }
  }
  assetCheckExecutions(assetKey: {path: ["raw_ticks"]}, checkName: "provider_delivered", limit: 5) {
    runId
    status
    evaluation { success severity metadataEntries { label ... on TextMetadataEntry { text } } }
  }
  repositoriesOrError {
    ... on RepositoryConnection { nodes { sensors { name sensorState { status } } } }
  }
}
"""


def test_a_lambda_tick_synced_by_status_shows_as_a_runless_materialization_and_check(
    webserver: str, dagster_home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from marketdata_assets.cli import main
    from marketdata_assets.lambda_handler import handler
    from marketdata_assets.market.ticks import floor_minute, format_tick
    from marketdata_tests.test_aws_runtime import Context

    for name, value in {
        "DAGSTER_HOME": str(dagster_home),
        "MARKETDATA_DATA_DIR": str(dagster_home / "data"),
        "MARKETDATA_ALWAYS_OPEN": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MARKETDATA_PROFILE", raising=False)
    tick = floor_minute(datetime.now(UTC)) - timedelta(minutes=1)
    event = {"scheduled_time": tick.isoformat()}
    assert handler(event, Context("req-webserver"))["validated"] == 10
    capsys.readouterr()
    assert main(["status", "--sync", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == f"1 new run record reported to {dagster_home}\n"
    assert [row["request_id"] for row in json.loads(out)] == ["req-webserver"]
    assert main(["status", "--sync", "--json"]) == 0  # nothing new the second time
    assert capsys.readouterr().err == f"0 new run records reported to {dagster_home}\n"

    data = _post(f"{webserver}/graphql", PRODUCTION_TICK)["data"]
    (materialization,) = data["assetOrError"]["assetMaterializations"]
    assert materialization["runId"] == ""  # runless: reported, not run by this instance
    metadata = {
        e["label"]: e.get("intValue", e.get("text")) for e in materialization["metadataEntries"]
    }
    assert (metadata["rows"], metadata["request_id"], metadata["tick"]) == (
        10,
        "req-webserver",
        format_tick(tick),
    )
    assert {"key": "marketdata/source", "value": "lambda"} in materialization["tags"]
    (execution,) = data["assetCheckExecutions"]  # reported once, though synced twice
    assert (execution["runId"], execution["status"]) == ("", "SUCCEEDED")
    assert (execution["evaluation"]["success"], execution["evaluation"]["severity"]) == (
        True,
        "ERROR",
    )
    labels = {e["label"] for e in execution["evaluation"]["metadataEntries"]}
    assert {"records", "provider_errors", "request_id", "tick"} <= labels
    (repository,) = data["repositoriesOrError"]["nodes"]
    assert {"name": "production_ticks_sensor", "sensorState": {"status": "STOPPED"}} in repository[
        "sensors"
    ]
