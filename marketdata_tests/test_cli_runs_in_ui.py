"""A CLI tick on a shared DAGSTER_HOME is a run of the workspace's `tick_job`: listed in the
job's Runs tab and re-executed from the UI as the same tick; `run_tick` given no instance (the
Lambda's way) runs it in an ephemeral one."""

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from dagster._core.workspace.load import location_origins_from_yaml_paths

from marketdata_assets.cli import main
from marketdata_assets.defs.launch import workspace_job_origin
from marketdata_assets.execution.tick import TickFailed, run_tick
from marketdata_assets.lake import object_key
from marketdata_assets.market.ticks import TICK_TAG, format_tick
from marketdata_assets.providers.stub.quotes import StubProvider
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store
from marketdata_tests.conftest import TICK
from marketdata_tests.dagster_server import dagster_webserver

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def persistent(tmp_path: Path) -> Iterator[DagsterInstance]:
    """A persistent instance, as DAGSTER_HOME gives the CLI."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with DagsterInstance.local_temp(
        str(home), overrides={"telemetry": {"enabled": False}}
    ) as instance:
        yield instance


@pytest.mark.graph
def test_the_workspace_origin_is_the_one_dagster_reads_from_workspace_yaml() -> None:
    (location,) = location_origins_from_yaml_paths([str(ROOT / "workspace.yaml")])
    assert workspace_job_origin("tick_job").repository_origin.code_location_origin == location


@pytest.mark.system  # a persistent instance tails its compute logs in a subprocess
def test_a_tick_on_a_persistent_instance_is_a_run_of_the_workspace_tick_job(
    persistent: DagsterInstance, settings: Settings, tick, tmp_path: Path
) -> None:
    summary = run_tick(settings, tick, persistent)
    label = workspace_job_origin("tick_job").repository_origin.get_label()
    (record,) = persistent.get_run_records(
        RunsFilter(job_name="tick_job", tags={REPOSITORY_LABEL_TAG: label})
    )
    run = record.dagster_run
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags[TICK_TAG] == format_tick(tick)
    assert run.remote_job_origin == workspace_job_origin("tick_job")
    assert run.job_code_origin is not None
    pointer = run.job_code_origin.repository_origin.code_pointer
    assert isinstance(pointer, ModuleCodePointer)
    assert (pointer.module, pointer.fn_name) == ("marketdata_assets.definitions", "defs")
    # what the tick reports does not depend on the instance it ran in (but each run's own time)
    ephemeral = run_tick(Settings(data_dir=tmp_path / "ephemeral"), tick)
    assert summary.duration_ms > 0 and ephemeral.duration_ms > 0
    assert replace(summary, duration_ms=0) == replace(ephemeral, duration_ms=0)


@pytest.mark.system  # a persistent instance tails its compute logs in a subprocess
def test_a_failed_tick_on_a_persistent_instance_names_its_failure(
    persistent: DagsterInstance, settings: Settings, tick, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self, at) -> bytes:
        raise ConnectionError("provider unreachable")

    monkeypatch.setattr(StubProvider, "fetch", broken)
    with pytest.raises(TickFailed, match=r"step raw_ticks: .*provider unreachable"):
        run_tick(settings, tick, persistent)
    (run,) = persistent.get_runs()
    assert run.status == DagsterRunStatus.FAILURE
    assert run.remote_job_origin == workspace_job_origin("tick_job")


@pytest.mark.graph
def test_an_ephemeral_instance_runs_the_tick_with_no_workspace_origin(settings, tick) -> None:
    # The Lambda's path: nothing reads this instance, so its run claims no code location.
    with DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}}) as instance:
        summary = run_tick(settings, tick, instance)
        (run,) = instance.get_runs()
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags[TICK_TAG] == format_tick(tick)
    assert run.remote_job_origin is None and run.job_code_origin is None
    assert summary.tick == format_tick(tick)
    assert summary.raw == summary.validated + summary.quarantined > 0


# --- the real webserver over the CLI's DAGSTER_HOME ---------------------------------------

RUN = """
query($runId: ID!) {
  runOrError(runId: $runId) {
    ... on Run {
      status
      tags { key value }
      repositoryOrigin { repositoryLocationName repositoryName }
    }
  }
}
"""
REPOSITORY = (
    "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
)
# The job page's Runs tab: its job's runs carrying its repository's label (as the UI asks).
JOB_RUNS = """
query($filter: RunsFilter!) {
  pipelineRunsOrError(filter: $filter) { ... on Runs { results { runId } } }
}
"""
# The run page's "Re-execute" > "All steps", with the tag the UI adds.
REEXECUTE = """
mutation($runId: String!) {
  launchPipelineReexecution(reexecutionParams: {
    parentRunId: $runId, strategy: ALL_STEPS, extraTags: [{key: "dagster/from_ui", value: "true"}]
  }) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass(frozen=True)
class Ui:
    url: str
    cli_run_id: str
    data_dir: Path


def _graphql(ui: Ui, query: str, **variables: object) -> dict:
    request = urllib.request.Request(
        f"{ui.url}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body["errors"]
    return body["data"]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    """`marketdata tick` on a fresh DAGSTER_HOME, then the webserver over that home and lake."""
    home = tmp_path_factory.mktemp("dagster_home")
    # Without `dagster dev`'s daemon nothing dequeues runs: the webserver launches them itself.
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
    )
    data_dir = home / "data"
    env = {"DAGSTER_HOME": str(home), "MARKETDATA_DATA_DIR": str(data_dir)}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert main(["tick", "--at", format_tick(TICK)]) == 0
        with DagsterInstance.get() as instance:
            (cli_run,) = instance.get_runs()
    with dagster_webserver(home, data_dir) as url:
        yield Ui(url, cli_run.run_id, data_dir)


@pytest.mark.system
def test_a_cli_tick_is_listed_in_tick_jobs_runs_tab(ui: Ui) -> None:
    (repository,) = _graphql(ui, REPOSITORY)["repositoriesOrError"]["nodes"]
    label = f"{repository['name']}@{repository['location']['name']}"
    job_filter = {
        "pipelineName": "tick_job",
        "tags": [{"key": ".dagster/repository", "value": label}],
    }
    runs = _graphql(ui, JOB_RUNS, filter=job_filter)["pipelineRunsOrError"]["results"]
    assert ui.cli_run_id in [run["runId"] for run in runs]
    run = _graphql(ui, RUN, runId=ui.cli_run_id)["runOrError"]
    assert run["repositoryOrigin"] == {
        "repositoryLocationName": repository["location"]["name"],
        "repositoryName": repository["name"],
    }


@pytest.mark.system
def test_re_executing_a_cli_tick_from_the_ui_reruns_the_same_tick(ui: Ui) -> None:
    launched = _graphql(ui, REEXECUTE, runId=ui.cli_run_id)["launchPipelineReexecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    for _ in range(1200):  # the run's own process: polled until it ends, not timed
        run = _graphql(ui, RUN, runId=run_id)["runOrError"]
        if run["status"] in FINISHED:
            break
        time.sleep(0.5)
    assert run["status"] == "SUCCESS"
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert tags[TICK_TAG] == format_tick(TICK)
    assert tags["dagster/parent_run_id"] == ui.cli_run_id
    # The re-execution processed the tagged minute, not the minute it was launched in.
    lake = lake_store(Settings(data_dir=ui.data_dir))
    assert lake.keys("raw/") == [object_key("raw", TICK)]
