"""Terraform in make test: fmt, init from the local provider mirror, validate, `terraform test`
with a mocked provider, checkov, and a real apply against moto's server with a tick through the
real handler."""

import glob
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import boto3
import pytest

from marketdata_assets.lake.datasets import registry
from marketdata_assets.lake.schemas import glue_columns
from marketdata_tests.conftest import free_port

pytestmark = pytest.mark.system


ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
TIME_BUDGET = ROOT / "marketdata_assets" / "operations" / "time_budget.json"
MIRROR_ROOTS = ["/opt/tf-plugins", "~/.terraform.d/plugins", "/usr/share/terraform/plugins"]


def plugin_dir() -> str:
    """The filesystem mirror holding hashicorp/aws: $TF_PLUGIN_DIR, else a known location."""
    candidates = [os.environ.get("TF_PLUGIN_DIR", ""), *map(os.path.expanduser, MIRROR_ROOTS)]
    for root in filter(None, candidates):
        if glob.glob(f"{root}/registry.terraform.io/hashicorp/aws/*/*"):
            return root
    raise AssertionError(
        "no Terraform provider mirror with hashicorp/aws: set TF_PLUGIN_DIR to the folder that "
        "holds registry.terraform.io/ (find / -xdev -name 'terraform-provider-aws*')"
    )


def terraform(workdir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["terraform", *args],
        cwd=workdir,
        env={**os.environ, "TF_IN_AUTOMATION": "1", **(env or {})},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        f"terraform {args[0]} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of infra/ beside the time budget it reads, initialised from the local mirror
    (nothing is downloaded)."""
    root = tmp_path_factory.mktemp("stack")
    folder = root / "infra"
    shutil.copytree(INFRA, folder, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    (root / "marketdata_assets" / "operations").mkdir(parents=True)
    shutil.copy(TIME_BUDGET, root / "marketdata_assets" / "operations")
    terraform(folder, "init", "-backend=false", "-input=false", f"-plugin-dir={plugin_dir()}")
    return folder


def test_terraform_is_formatted() -> None:
    terraform(INFRA, "fmt", "-check", "-recursive", "-diff")


def test_terraform_validates(workdir: Path) -> None:
    assert "The configuration is valid" in terraform(workdir, "validate", "-no-color")


def test_terraform_test_passes_with_a_mocked_provider(workdir: Path) -> None:
    output = terraform(workdir, "test", "-no-color")
    runs = sum(
        len(re.findall(r'^run "', path.read_text(), re.MULTILINE))
        for path in (INFRA / "tests").glob("*.tftest.hcl")
    )
    assert runs >= 20 and f"{runs} passed, 0 failed" in output


def console(workdir: Path, expression: str) -> object:
    """The value of `expression` in the configuration, through `terraform console`."""
    done = subprocess.run(
        ["terraform", "console", "-no-color"],
        cwd=workdir, input=f"jsonencode({expression})", capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(json.loads(done.stdout))


class Point(NamedTuple):
    """One datapoint of a metric: its UTC timestamp and its value (None: no datapoint)."""

    at: datetime
    value: float | None


# The documented semantics of the metric-math functions the alarm uses, on one datapoint:
# DAY (1 = Monday), HOUR and MINUTE of its UTC timestamp, FILL of a missing value, IF.
METRIC_MATH = {
    "DAY": lambda point: point.at.isoweekday(),
    "HOUR": lambda point: point.at.hour,
    "MINUTE": lambda point: point.at.minute,
    "FILL": lambda point, fill: fill if point.value is None else point.value,
    "IF": lambda condition, then, otherwise: then if condition else otherwise,
}


def metric_math(expression: str, ticks: dict[datetime, float | None]) -> dict[datetime, float]:
    """`expression` (AND, OR, comparisons and METRIC_MATH) evaluated minute by minute."""
    python = re.sub(r"\bAND\b", "and", re.sub(r"\bOR\b", "or", expression))
    code = compile(python, "metric math", "eval")
    return {
        minute: float(
            eval(code, {"__builtins__": {}}, {**METRIC_MATH, "ticks": Point(minute, value)})
        )
        for minute, value in ticks.items()
    }


def scheduled_minutes(start: datetime, days: int) -> dict[datetime, float | None]:
    """Every UTC minute of `days` days: 1.0 (one tick) where the Scheduler fires (Monday to
    Friday 09:30-15:59 New York time, holidays included: the handler counts a skipped tick),
    None elsewhere."""
    new_york = ZoneInfo("America/New_York")
    ticks: dict[datetime, float | None] = {}
    for minute in (start + timedelta(minutes=m) for m in range(days * 24 * 60)):
        local = minute.astimezone(new_york)
        firing = local.isoweekday() <= 5 and time(9, 30) <= local.time() < time(16, 0)
        ticks[minute] = 1.0 if firing else None
    return ticks


@pytest.fixture(scope="module")
def configured(workdir: Path) -> dict[str, Any]:
    """What the tests read from the configuration itself, in one `terraform console`."""
    catalog = "{for name, table in local.catalog_tables : name => table.columns}"
    value = console(workdir, f"{{catalog = {catalog}, ticks_expected = local.ticks_expected}}")
    assert isinstance(value, dict)
    return value


# Saturday to Friday: standard time, the switches to daylight time (March 8) and back
# (November 1), daylight time, and Thanksgiving week.
WEEKS = [datetime(2026, 1, 3), datetime(2026, 3, 7), datetime(2026, 7, 4),
         datetime(2026, 10, 31), datetime(2026, 11, 21)]  # fmt: skip


@pytest.mark.parametrize("saturday", WEEKS, ids=lambda day: f"{day:%Y-%m-%d}")
def test_missing_ticks_breach_only_inside_the_session(
    configured: dict[str, Any], saturday: datetime
) -> None:
    """The missing-ticks alarm's expression never breaches while the Scheduler fires; with no
    tick at all it breaches in 14:30-19:59 UTC on weekdays, always inside the New York session,
    in standard and in daylight time, and never at night or on the weekend."""
    expression = configured["ticks_expected"]
    healthy = scheduled_minutes(saturday.replace(tzinfo=UTC), days=7)
    assert min(metric_math(expression, healthy).values()) == 1

    stopped = metric_math(expression, dict.fromkeys(healthy))
    breaching = {minute for minute, value in stopped.items() if value < 1}
    assert all(healthy[minute] == 1.0 for minute in breaching)  # session minutes only
    assert {(m.isoweekday(), m.hour, m.minute) for m in breaching} == {
        (day, minute // 60, minute % 60) for day in range(1, 6) for minute in range(870, 1200)
    }  # 14:30 (minute 870 of the day) to 19:59, Monday to Friday


def lake_columns() -> dict[str, list[list[str]]]:
    """The catalogued datasets' columns and Athena types, from the registry's schemas (the ones
    the codecs enforce on every object written)."""
    return {d.name: glue_columns(d.columns) for d in registry() if d.catalogued}


def test_catalog_columns_are_the_columns_the_lake_writes(configured: dict[str, Any]) -> None:
    assert configured["catalog"] == lake_columns()


def test_checkov_finds_nothing_unexplained() -> None:
    checkov = os.environ.get("CHECKOV", str(ROOT / ".tools/checkov/bin/checkov"))
    assert Path(checkov).exists(), f"checkov not installed at {checkov}: run `make test`"
    done = subprocess.run(
        [checkov, "-d", str(INFRA), "--framework", "terraform", "--skip-download",
         "--compact", "--output", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    report = json.loads(done.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0, json.dumps(report["results"]["failed_checks"])[-4000:]
    assert summary["passed"] > 40 and done.returncode == 0
    # Exactly these checks are skipped, each by a comment on its resource giving the reason.
    skipped = report["results"]["skipped_checks"]
    assert {(check["check_id"], check["resource"]) for check in skipped} == CHECKOV_SKIPS
    for check in skipped:
        reason = check["check_result"]["suppress_comment"]
        written = f"#checkov:skip={check['check_id']}:{reason}\n"
        assert reason and written in (INFRA / check["file_path"].lstrip("/")).read_text(), check


CHECKOV_SKIPS = {
    ("CKV_AWS_26", "aws_sns_topic.alarms"),
    ("CKV_AWS_136", "aws_ecr_repository.tick"),
    ("CKV_AWS_158", "aws_cloudwatch_log_group.tick"),
    ("CKV_AWS_338", "aws_cloudwatch_log_group.tick"),
    ("CKV_AWS_116", "aws_lambda_function.tick"),
    ("CKV_AWS_117", "aws_lambda_function.tick"),
    ("CKV_AWS_272", "aws_lambda_function.tick"),
    ("CKV_AWS_173", "aws_lambda_function.tick"),
    ("CKV_AWS_297", 'aws_scheduler_schedule.tick["opening"]'),
    ("CKV_AWS_297", 'aws_scheduler_schedule.tick["session"]'),
    ("CKV_AWS_119", "aws_dynamodb_table.latest_prices"),
    ("CKV_AWS_119", "aws_dynamodb_table.request_budget"),
    ("CKV_AWS_18", "aws_s3_bucket.lake"),
    ("CKV2_AWS_62", "aws_s3_bucket.lake"),
    ("CKV_AWS_144", "aws_s3_bucket.lake"),
    ("CKV2_AWS_11", "module.orchestrator.aws_vpc.this"),
    ("CKV_AWS_157", "module.orchestrator.aws_db_instance.this"),
    ("CKV_AWS_161", "module.orchestrator.aws_db_instance.this"),
    ("CKV_AWS_118", "module.orchestrator.aws_db_instance.this"),
    ("CKV_AWS_353", "module.orchestrator.aws_db_instance.this"),
    ("CKV_AWS_65", "module.orchestrator.aws_ecs_cluster.this"),
    ("CKV_AWS_158", "module.orchestrator.aws_cloudwatch_log_group.this"),
    ("CKV_AWS_338", "module.orchestrator.aws_cloudwatch_log_group.this"),
    ("CKV_AWS_336", "module.orchestrator.aws_ecs_task_definition.service"),
    ("CKV_AWS_336", "module.orchestrator.aws_ecs_task_definition.run"),
}


@pytest.fixture
def moto_endpoint(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    try:
        yield endpoint
    finally:
        server.stop()


def test_the_remote_state_example_keeps_state_and_its_lock_in_s3(
    tmp_path: Path, moto_endpoint: str
) -> None:
    """infra/backend.tf.example, initialised as its comment says (plus moto's address): state
    goes to the bucket, and a held lock object stops a second run."""
    shutil.copy(INFRA / "backend.tf.example", tmp_path / "backend.tf")
    (tmp_path / "main.tf").write_text('output "stack" {\n  value = "marketdata"\n}\n')
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="terraform-state")
    settings = {
        "bucket": "terraform-state",
        "key": "marketdata/test.tfstate",
        "region": "us-east-1",
        "endpoints": f'{{s3="{moto_endpoint}"}}',
        "use_path_style": "true",
        "skip_credentials_validation": "true",
        "skip_requesting_account_id": "true",
    }
    backend = [f"-backend-config={name}={value}" for name, value in settings.items()]
    terraform(tmp_path, "init", "-input=false", "-no-color", *backend)

    s3.put_object(Bucket="terraform-state", Key="marketdata/test.tfstate.tflock", Body=b"{}")
    held = subprocess.run(
        ["terraform", "apply", "-auto-approve", "-no-color", "-lock-timeout=0s"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert held.returncode == 1 and "Error acquiring the state lock" in held.stderr

    s3.delete_object(Bucket="terraform-state", Key="marketdata/test.tfstate.tflock")
    terraform(tmp_path, "apply", "-auto-approve", "-no-color")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="terraform-state")["Contents"]]
    assert keys == ["marketdata/test.tfstate"]  # the run's own lock is gone with it
    assert not (tmp_path / "terraform.tfstate").exists()


def outputs_bucket(workdir: Path) -> str:
    return str(json.loads(terraform(workdir, "output", "-json"))["bucket"]["value"])


def _empty_bucket(bucket: str) -> None:
    """What an operator does before destroy: the versioned lake must be empty."""
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])


def test_apply_against_moto_then_a_tick_through_the_real_handler(
    workdir: Path, configured: dict[str, Any], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack as deployed for Alpha Vantage; the handler runs with exactly the Lambda's
    environment (plus the address of a local Alpha Vantage), its key read from SSM."""
    from marketdata_tests.provider_server import ProviderServer, serving
    from marketdata_tests.test_alphavantage_provider import KEY, live_tick, quote_for

    # moto ignores policy conditions: it would apply the TLS-only Deny to every request.
    variables = [
        *("-var", f"aws_endpoint_url={moto_endpoint}"),
        *("-var", "table_deletion_protection=false"),
        *("-var", "enforce_tls_policy=false"),
        *("-var", "provider_name=alphavantage"),
        *("-var", "provider_key_parameter=/marketdata/alphavantage-key"),
        *("-var", "alarm_email=oncall@example.com"),
        *("-var", "orchestrator_enabled=true"),
        *("-var", "orchestrator_deletion_protection=false"),
    ]
    terraform(workdir, "apply", "-auto-approve", "-input=false", "-no-color", *variables)
    try:
        outputs = {
            k: v["value"] for k, v in json.loads(terraform(workdir, "output", "-json")).items()
        }
        lam = boto3.client("lambda")
        config = lam.get_function_configuration(FunctionName=outputs["function"])
        assert config["PackageType"] == "Image" and config["Architectures"] == ["arm64"]
        assert config["Timeout"] == json.loads(TIME_BUDGET.read_text())["lambda_timeout_s"]
        assert config["Environment"]["Variables"]["MARKETDATA_BUCKET"] == outputs["bucket"]
        concurrency = lam.get_function_concurrency(FunctionName=outputs["function"])
        assert concurrency["ReservedConcurrentExecutions"] == 1
        schedules = boto3.client("scheduler").list_schedules()["Schedules"]
        assert len(schedules) == 2
        tables = boto3.client("glue").get_tables(DatabaseName=outputs["glue_database"])
        assert {
            table["Name"]: [[c["Name"], c["Type"]] for c in table["StorageDescriptor"]["Columns"]]
            for table in tables["TableList"]
        } == lake_columns()
        assert all(t["Parameters"]["projection.enabled"] == "true" for t in tables["TableList"])
        workgroup = boto3.client("athena").get_work_group(WorkGroup=outputs["athena_workgroup"])
        athena = workgroup["WorkGroup"]["Configuration"]
        assert athena["EnforceWorkGroupConfiguration"] is True
        assert athena["BytesScannedCutoffPerQuery"] == 2**30

        subscriptions = boto3.client("sns").list_subscriptions_by_topic(
            TopicArn=outputs["alarm_topic"]
        )["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
            ("email", "oncall@example.com")
        ]
        alarms = boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
        assert len(alarms) == 4
        assert all(alarm["AlarmActions"] == [outputs["alarm_topic"]] for alarm in alarms)
        (missing,) = [alarm for alarm in alarms if alarm["AlarmName"].endswith("ticks-missing")]
        assert missing["TreatMissingData"] == "breaching"
        assert [q["Expression"] for q in missing["Metrics"] if q["ReturnData"]] == [
            configured["ticks_expected"]
        ]

        assert_orchestrator_deployed(workdir, outputs["orchestrator"], outputs["repository_url"])

        environment = config["Environment"]["Variables"]
        assert "ALPHAVANTAGE_API_KEY" not in environment
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
        boto3.client("ssm").put_parameter(
            Name=environment["ALPHAVANTAGE_API_KEY_PARAM"], Value=KEY, Type="SecureString"
        )
        from marketdata_assets.lambda_handler import handler

        # A quote is stamped when it is received: tick the current minute, market open or not.
        monkeypatch.setenv("MARKETDATA_ALWAYS_OPEN", "1")
        alphavantage = ProviderServer(lambda _, query: query.get("symbol", "?"), quote_for)
        tick = live_tick(alphavantage)
        with serving(alphavantage):
            monkeypatch.setenv("MARKETDATA_ALPHAVANTAGE_URL", alphavantage.url)
            result = handler({"time": tick.isoformat()}, None)
        assert result["validated"] == result["latest_updated"] == 10
        assert {query["apikey"] for query in alphavantage.queries} == {KEY}
        budget = boto3.client("dynamodb").scan(TableName=outputs["budget_table"])["Items"]
        assert [item["used"]["N"] for item in budget] == ["10"]

        items = boto3.client("dynamodb").scan(TableName=outputs["table"])["Items"]
        assert sorted(item["symbol"]["S"] for item in items) == sorted(
            config["Environment"]["Variables"]["MARKETDATA_SYMBOLS"].split(",")
        )
        keys = [
            o["Key"]
            for o in boto3.client("s3").list_objects_v2(Bucket=outputs["bucket"])["Contents"]
        ]
        assert sorted(k.split("/")[0] for k in keys) == [  # the tick's lock was released
            "curated",
            "quarantine",
            "raw",
            "reference",
            "runs",
            "validated",
        ]
        assert all(f"/date={tick:%Y-%m-%d}/minute={tick:%H%M}/" in k for k in keys)
    finally:
        _empty_bucket(outputs_bucket(workdir))
        terraform(workdir, "destroy", "-auto-approve", "-input=false", "-no-color", *variables)
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert boto3.client("glue").get_databases()["DatabaseList"] == []
    assert boto3.client("rds").describe_db_instances()["DBInstances"] == []
    # A deleted ECS cluster stays listed, INACTIVE, as in AWS.
    (cluster,) = boto3.client("ecs").describe_clusters(clusters=["marketdata-orchestrator"])[
        "clusters"
    ]
    assert cluster["status"] == "INACTIVE"


def assert_orchestrator_deployed(workdir: Path, names: dict[str, str], repository: str) -> None:
    """What moto holds of the orchestrator module (orchestrator_enabled = true): the Fargate
    service of the webserver and daemon, the run task definition the EcsRunLauncher runs, the
    database and its managed secret, the private network. moto keeps every resource but not
    every attribute: it drops the service's enable_execute_command and the security group rules'
    descriptions, and it stores the parameter group's parameters but not as the user-set ones
    the provider reads back (a second plan shows those four resources changing in place); they
    are asserted at plan time in infra/tests/orchestrator.tftest.hcl."""
    ecs = boto3.client("ecs")
    (service,) = ecs.describe_services(cluster=names["cluster"], services=[names["service"]])[
        "services"
    ]
    assert (service["desiredCount"], service["launchType"]) == (1, "FARGATE")
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "DISABLED" and len(network["subnets"]) == 2
    definitions = {
        family: ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
        for family in (service["taskDefinition"], names["run_task_definition"])
    }
    for definition in definitions.values():
        assert definition["runtimePlatform"]["cpuArchitecture"] == "ARM64"
        assert definition["requiresCompatibilities"] == ["FARGATE"]
        for container in definition["containerDefinitions"]:
            assert container["image"] == f"{repository}:orchestrator-v1"
            assert [s["name"] for s in container["secrets"]] == ["DAGSTER_PG_PASSWORD"]
            assert container["secrets"][0]["valueFrom"].startswith(names["database_secret_arn"])
    run = definitions[names["run_task_definition"]]
    assert [c["name"] for c in run["containerDefinitions"]] == ["run"]
    assert (run["cpu"], run["memory"]) == ("1024", "4096")
    daemon = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    commands = {
        c["name"]: c["command"][0] for c in daemon["taskDefinition"]["containerDefinitions"]
    }
    assert commands == {"webserver": "dagster-webserver", "daemon": "dagster-daemon"}

    (database,) = boto3.client("rds").describe_db_instances(DBInstanceIdentifier=names["service"])[
        "DBInstances"
    ]
    assert database["DBInstanceClass"] == "db.t4g.micro" and database["Engine"] == "postgres"
    assert database["StorageEncrypted"] and not database["PubliclyAccessible"]
    assert database["Endpoint"]["Address"] == names["database_endpoint"]
    assert database["MasterUserSecret"]["SecretArn"] == names["database_secret_arn"]
    (group,) = database["DBParameterGroups"]
    parameters = boto3.client("rds").describe_db_parameters(
        DBParameterGroupName=group["DBParameterGroupName"]
    )["Parameters"]
    assert {p["ParameterName"]: p.get("ParameterValue") for p in parameters}["rds.force_ssl"] == "1"
    subnets = {s["SubnetIdentifier"] for s in database["DBSubnetGroup"]["Subnets"]}
    assert subnets == set(network["subnets"])  # the tasks' private subnets
    # RDS keeps the password in Secrets Manager: it is in no output and nowhere in the state.
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=names["database_secret_arn"])
    password = json.loads(secret["SecretString"])["password"]
    state = terraform(workdir, "show", "-json")
    assert password and password not in state
    assert password not in terraform(workdir, "output", "-json")

    ec2 = boto3.client("ec2")
    routes = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": network["subnets"]}]
    )["RouteTables"]
    (nat,) = ec2.describe_nat_gateways()["NatGateways"]
    assert {r.get("NatGatewayId") for t in routes for r in t["Routes"]} >= {nat["NatGatewayId"]}
    endpoints = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    assert sorted(e["ServiceName"].rsplit(".", 1)[1] for e in endpoints) == ["dynamodb", "s3"]
    assert all(e["VpcEndpointType"] == "Gateway" for e in endpoints)
