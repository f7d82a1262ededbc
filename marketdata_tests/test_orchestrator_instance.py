"""The ECS deployment's Dagster instance (infra/modules/orchestrator/dagster.yaml) against
Dagster's own schemas: the file as a whole through the instance's config schema, then the run
coordinator and the EcsRunLauncher built from it the way the instance builds them (the launcher
against moto, where it looks its task definition up). A misspelt key fails here, not in the
first Fargate task. The queue's limits go through the daemon's own tag counter: a provider's
pool and the backfill limit are never exceeded, and a run waits only behind a full limit."""

import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from dagster import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes import ConfigurableClassData
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

pytestmark = pytest.mark.graph

INSTANCE_YAML = Path(__file__).resolve().parents[1] / "infra/modules/orchestrator/dagster.yaml"
# What Terraform sets on the webserver's, the daemon's and the run's task definitions.
ENVIRONMENT = {
    "DAGSTER_PG_HOST": "marketdata-orchestrator.abc.us-east-1.rds.amazonaws.com",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_USERNAME": "dagster",
    "DAGSTER_PG_PASSWORD": "from-secrets-manager",
    "DAGSTER_RUN_TASK_DEFINITION": "marketdata-orchestrator-run",
    "DAGSTER_MAX_CONCURRENT_RUNS": "8",
}


def env_names(value: Any) -> set[str]:
    """Every environment variable the configuration reads ({env: NAME} anywhere in it)."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            return {value["env"]}
        return set().union(*map(env_names, value.values()))
    if isinstance(value, list):
        return set().union(*map(env_names, value))
    return set()


@pytest.fixture
def instance_dir(tmp_path: Path, aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(INSTANCE_YAML, tmp_path / "dagster.yaml")
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def validated(folder: Path) -> dict[str, Any]:
    config, custom_class = dagster_instance_config(str(folder))
    assert custom_class is None
    return dict(config)


def built(config: dict[str, Any], section: str) -> Any:
    """The configurable class of `section` (run_coordinator, run_launcher), built as the instance
    builds it: its config checked against the class's own schema first."""
    entry = config[section]
    data = ConfigurableClassData(entry["module"], entry["class"], yaml.dump(entry["config"]))
    return data.rehydrate(as_type=object)


def test_the_instance_keeps_runs_and_events_in_postgres_over_tls(instance_dir: Path) -> None:
    config = validated(instance_dir)
    postgres = config["storage"]["postgres"]["postgres_db"]
    assert {key: value for key, value in postgres.items() if key != "params"} == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "db_name": {"env": "DAGSTER_PG_DB"},
        "username": {"env": "DAGSTER_PG_USERNAME"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
    }
    assert postgres["params"] == {"sslmode": "require"}
    assert env_names(config) == set(ENVIRONMENT)  # no secret or address is written in the file
    assert config["telemetry"] == {"enabled": False}
    assert config["run_monitoring"]["enabled"] is True


def test_the_queue_limits_backfills_and_each_provider(instance_dir: Path) -> None:
    from dagster import QueuedRunCoordinator

    coordinator = built(validated(instance_dir), "run_coordinator")
    assert isinstance(coordinator, QueuedRunCoordinator)
    queue = coordinator.get_run_queue_config()
    assert queue.max_concurrent_runs == int(ENVIRONMENT["DAGSTER_MAX_CONCURRENT_RUNS"])
    limits = {
        (limit["key"], limit.get("value")): limit["limit"] for limit in queue.tag_concurrency_limits
    }
    assert limits == {
        ("dagster/backfill", None): 4,
        ("marketdata/provider", "yahoo"): 2,
        ("marketdata/provider", "alphavantage"): 1,
    }
    assert all(limit < queue.max_concurrent_runs for limit in limits.values())


def test_the_ecs_run_launcher_runs_the_run_task_definition(instance_dir: Path) -> None:
    from dagster_aws.ecs import EcsRunLauncher

    with mock_aws():
        ecs = boto3.client("ecs")
        registered = ecs.register_task_definition(
            family=ENVIRONMENT["DAGSTER_RUN_TASK_DEFINITION"],
            containerDefinitions=[{"name": "run", "image": "marketdata-tick:v1"}],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="1024",
            memory="4096",
        )["taskDefinition"]
        launcher = built(validated(instance_dir), "run_launcher")
    assert isinstance(launcher, EcsRunLauncher)
    assert launcher.task_definition == registered["taskDefinitionArn"]
    assert launcher.container_name == "run"
    assert launcher.use_current_ecs_task_config is True
    assert launcher.secrets_tags == []  # never lists every secret of the account


# A misspelt key in each section, and a value of the wrong type: each is refused.
TYPOS = {
    "top level": lambda c: c.update(run_cordinator=c.pop("run_coordinator")),
    "postgres": lambda c: c["storage"]["postgres"]["postgres_db"].update(
        hostnme=c["storage"]["postgres"]["postgres_db"].pop("hostname")
    ),
    "run monitoring": lambda c: c["run_monitoring"].update(start_timeout="600"),
    "coordinator": lambda c: c["run_coordinator"]["config"].update(
        tag_concurency_limits=c["run_coordinator"]["config"].pop("tag_concurrency_limits")
    ),
    "coordinator limit": lambda c: c["run_coordinator"]["config"]["tag_concurrency_limits"][
        0
    ].update(limit="four"),
    "launcher": lambda c: c["run_launcher"]["config"].update(
        use_current_task_config=c["run_launcher"]["config"].pop("use_current_ecs_task_config")
    ),
}


@pytest.mark.parametrize("typo", TYPOS, ids=str)
def test_a_typo_fails(instance_dir: Path, typo: str) -> None:
    config = yaml.safe_load(INSTANCE_YAML.read_text())
    TYPOS[typo](config)
    (instance_dir / "dagster.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(DagsterInvalidConfigError), mock_aws():
        loaded = validated(instance_dir)
        for section in ("run_coordinator", "run_launcher"):
            built(loaded, section)


PROVIDERS = ["yahoo", "alphavantage", "stub"]


@settings(max_examples=60, deadline=None)
@given(
    queued=st.lists(st.tuples(st.sampled_from(PROVIDERS), st.booleans()), max_size=30),
    running=st.lists(st.tuples(st.sampled_from(PROVIDERS), st.booleans()), max_size=4),
)
def test_the_queue_never_exceeds_a_provider_or_the_backfill_limit(
    queued: list[tuple[str, bool]], running: list[tuple[str, bool]]
) -> None:
    """One dequeue pass of the daemon's own tag counter over the file's limits, for any mix of
    queued runs (provider, from a backfill or not) behind any runs in progress: no limit is
    exceeded, and a run waits only behind a limit that is full."""
    from dagster import DagsterRun
    from dagster._utils.tags import TagConcurrencyLimitsCounter

    config = yaml.safe_load(INSTANCE_YAML.read_text())["run_coordinator"]["config"]
    limits = config["tag_concurrency_limits"]

    def run(provider: str, backfill: bool) -> DagsterRun:
        tags = {"marketdata/provider": provider} | ({"dagster/backfill": "b1"} if backfill else {})
        return DagsterRun(job_name="history_job", tags=tags)

    in_progress = [run(*r) for r in running]
    counter = TagConcurrencyLimitsCounter(limits, in_progress)
    launched = list(in_progress)
    for candidate in (run(*q) for q in queued):
        if counter.is_blocked(candidate):
            assert any(full(limit, launched, candidate) for limit in limits)
        else:
            counter.update_counters_with_launched_item(candidate)
            launched.append(candidate)
    for limit in limits:
        count = sum(matches(limit, r) for r in launched)
        assert count <= max(limit["limit"], sum(matches(limit, r) for r in in_progress))


def matches(limit: dict[str, Any], run: Any) -> bool:
    value = run.tags.get(limit["key"])
    return value is not None and limit.get("value") in (None, value)


def full(limit: dict[str, Any], launched: list[Any], candidate: Any) -> bool:
    return matches(limit, candidate) and sum(matches(limit, r) for r in launched) >= limit["limit"]


@pytest.mark.parametrize(
    ("queued", "admitted"),
    [
        ([("yahoo", True)] * 5, 2),  # Yahoo's pool
        ([("alphavantage", True)] * 3, 1),  # Alpha Vantage's: one at a time
        ([("stub", True)] * 6, 4),  # backfills together
        ([("stub", False)] * 6, 6),  # not a backfill, no provider pool: only the run limit
        ([("yahoo", True)] * 3 + [("alphavantage", True)] * 2 + [("stub", True)] * 3, 4),
    ],
)
def test_one_dequeue_pass_admits_what_the_limits_allow(
    queued: list[tuple[str, bool]], admitted: int
) -> None:
    from dagster import DagsterRun
    from dagster._utils.tags import TagConcurrencyLimitsCounter

    limits = yaml.safe_load(INSTANCE_YAML.read_text())["run_coordinator"]["config"][
        "tag_concurrency_limits"
    ]
    counter = TagConcurrencyLimitsCounter(limits, [])
    launched = 0
    for provider, backfill in queued:
        tags = {"marketdata/provider": provider} | ({"dagster/backfill": "b1"} if backfill else {})
        candidate = DagsterRun(job_name="history_job", tags=tags)
        if not counter.is_blocked(candidate):
            counter.update_counters_with_launched_item(candidate)
            launched += 1
    assert launched == admitted
