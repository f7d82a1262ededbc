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
from pathlib import Path

import boto3
import pytest

from marketdata_assets.curation import CURATED_SCHEMA
from marketdata_assets.gate.routing import VALIDATED_COLUMNS
from marketdata_assets.records import (
    BAR_CANDIDATE_SCHEMA,
    BAR_SCHEMA,
    BARS_QUARANTINE_COLUMNS,
    DAILY_BAR_SCHEMA,
    SESSION_ANALYTICS_SCHEMA,
)
from marketdata_tests.conftest import free_port

pytestmark = pytest.mark.slow  # real servers, subprocesses or Terraform

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
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
    """A copy of infra/, initialised from the local mirror (nothing is downloaded)."""
    folder = tmp_path_factory.mktemp("infra")
    shutil.copytree(INFRA, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".terraform"))
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
    assert runs >= 16 and f"{runs} passed, 0 failed" in output


# How Athena reads the Parquet columns of each pandas dtype the lake writes.
ATHENA_TYPES = {
    "str": "string",
    "int64": "bigint",
    "Int64": "bigint",
    "float64": "double",
    "datetime64[us, UTC]": "timestamp",
    "datetime64[us]": "timestamp",
}


def lake_columns() -> dict[str, list[list[str]]]:
    """The catalogued datasets' columns and Athena types, from the schemas the code writes."""
    validated = {column: CURATED_SCHEMA[column] for column in VALIDATED_COLUMNS}
    columns = {
        name: [[column, ATHENA_TYPES[dtype]] for column, dtype in schema.items()]
        for name, schema in [
            ("minute_bars", BAR_SCHEMA),
            ("daily_bars", DAILY_BAR_SCHEMA),
            ("session_analytics", SESSION_ANALYTICS_SCHEMA),
            ("validated_daily", validated),
        ]
    }
    columns["bars_quarantine"] = [
        [
            column,
            "array<string>" if column == "reasons" else ATHENA_TYPES[BAR_CANDIDATE_SCHEMA[column]],
        ]
        for column in BARS_QUARANTINE_COLUMNS
    ]
    return columns


def test_catalog_columns_are_the_columns_the_lake_writes(workdir: Path) -> None:
    expression = "jsonencode({for name, table in local.catalog_tables : name => table.columns})"
    done = subprocess.run(
        ["terraform", "console", "-no-color"],
        cwd=workdir, input=expression, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert json.loads(json.loads(done.stdout)) == lake_columns()


def test_checkov_finds_nothing_unexplained() -> None:
    checkov = os.environ.get("CHECKOV", str(ROOT / ".tools/checkov/bin/checkov"))
    assert Path(checkov).exists(), f"checkov not installed at {checkov}: run `make test`"
    done = subprocess.run(
        [checkov, "-d", str(INFRA), "--framework", "terraform", "--skip-download", "--quiet",
         "--compact", "--output", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    summary = json.loads(done.stdout)["summary"]
    assert summary["failed"] == 0, done.stdout[-4000:]
    assert summary["passed"] > 40 and done.returncode == 0
    assert summary["skipped"] > 0  # each skip is inline, with its reason, in infra/*.tf


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


def outputs_bucket(workdir: Path) -> str:
    return str(json.loads(terraform(workdir, "output", "-json"))["bucket"]["value"])


def _empty_bucket(bucket: str) -> None:
    """What an operator does before destroy: the versioned lake must be empty."""
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])


def test_apply_against_moto_then_a_tick_through_the_real_handler(
    workdir: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
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
    ]
    terraform(workdir, "apply", "-auto-approve", "-input=false", "-no-color", *variables)
    try:
        outputs = {
            k: v["value"] for k, v in json.loads(terraform(workdir, "output", "-json")).items()
        }
        lam = boto3.client("lambda")
        config = lam.get_function_configuration(FunctionName=outputs["function"])
        assert config["PackageType"] == "Image" and config["Architectures"] == ["arm64"]
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
            "validated",
        ]
        assert all(f"/date={tick:%Y-%m-%d}/minute={tick:%H%M}/" in k for k in keys)
    finally:
        _empty_bucket(outputs_bucket(workdir))
        terraform(workdir, "destroy", "-auto-approve", "-input=false", "-no-color", *variables)
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert boto3.client("glue").get_databases()["DatabaseList"] == []
