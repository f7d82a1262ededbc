"""A run launched through the orchestrator's dagster.yaml: a Dagster instance made from the
repository's file (storage swapped for SQLite, since no PostgreSQL runs here) launches a
history run with the EcsRunLauncher against moto's ECS, from inside a stand-in for the daemon's
Fargate task (its task metadata endpoint served on loopback). The run becomes one task of the
run task definition, in the daemon's subnet and security group, whose command executes that run.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
import yaml
from dagster import DagsterInstance
from dagster._core.definitions.reconstruct import ReconstructableRepository
from moto import mock_aws

from marketdata_assets.definitions import build_definitions
from marketdata_assets.defs.launch import (
    DEFINITIONS_ATTRIBUTE,
    DEFINITIONS_MODULE,
    workspace_job_origin,
)
from marketdata_assets.settings import Settings
from marketdata_tests.test_orchestrator_instance import ENVIRONMENT, INSTANCE_YAML

pytestmark = pytest.mark.system

CLUSTER = "marketdata-orchestrator"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/marketdata-tick:orchestrator-v1"


class Metadata(BaseHTTPRequestHandler):
    """ECS's task metadata endpoint (v4) as the daemon's container sees it: GET /task."""

    task: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = json.dumps(self.task).encode() if self.path == "/task" else b"{}"
        self.send_response(200 if self.path == "/task" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def metadata_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Metadata]]:
    server = HTTPServer(("127.0.0.1", 0), Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", f"http://127.0.0.1:{server.server_port}")
    try:
        yield Metadata
    finally:
        server.shutdown()
        thread.join()


def the_daemon_task(ecs: Any) -> tuple[str, str, str, str]:
    """The cluster, the run task definition and the service's task running in one private
    subnet with one security group, as Terraform and ECS leave them: (task ARN, run task
    definition ARN, subnet, security group). moto's run_task needs each container's cpu and
    memory, which Fargate takes from the task."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as network.tf
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.0.0/20")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName=CLUSTER)
    fargate: dict[str, Any] = {
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    }
    run = ecs.register_task_definition(
        family=ENVIRONMENT["DAGSTER_RUN_TASK_DEFINITION"],
        containerDefinitions=[{"name": "run", "image": IMAGE, "cpu": 1024, "memory": 4096}],
        cpu="1024",
        memory="4096",
        **fargate,
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.register_task_definition(
        family=CLUSTER,
        containerDefinitions=[{"name": "daemon", "image": IMAGE, "cpu": 512, "memory": 2048}],
        cpu="512",
        memory="2048",
        **fargate,
    )
    (daemon,) = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=CLUSTER,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [group],
                "assignPublicIp": "DISABLED",
            }
        },
    )["tasks"]
    return daemon["taskArn"], run, subnet, group


def test_a_history_run_becomes_one_fargate_task_of_the_run_task_definition(
    tmp_path: Path,
    aws_credentials: None,
    metadata_endpoint: type[Metadata],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    config = yaml.safe_load(INSTANCE_YAML.read_text())
    config["storage"] = {"sqlite": {"base_dir": str(tmp_path / "storage")}}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    job = build_definitions(Settings(data_dir=tmp_path / "data")).resolve_job_def("history_job")
    code = ReconstructableRepository.for_module(DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE)

    with mock_aws():
        ecs = boto3.client("ecs")
        daemon, run_definition, subnet, group = the_daemon_task(ecs)
        cluster_arn = ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]["clusterArn"]
        metadata_endpoint.task = {"Cluster": cluster_arn, "TaskARN": daemon}

        instance = DagsterInstance.from_config(str(tmp_path))
        run = instance.create_run_for_job(
            job_def=job,
            tags={"marketdata/provider": "yahoo", "dagster/backfill": "abcdefgh"},
            remote_job_origin=workspace_job_origin(job.name),
            job_code_origin=code.get_reconstructable_job(job.name).get_python_origin(),
        )
        instance.launch_run(run.run_id, workspace=None)  # type: ignore[arg-type]

        tasks = ecs.list_tasks(cluster=CLUSTER)["taskArns"]
        (launched,) = [t for t in tasks if t != daemon]
        (task,) = ecs.describe_tasks(cluster=CLUSTER, tasks=[launched], include=["TAGS"])["tasks"]
        interface = next(a for a in task["attachments"] if a["type"] == "ElasticNetworkInterface")
        details = {d["name"]: d["value"] for d in interface["details"]}
        groups = boto3.client("ec2").describe_network_interfaces(
            NetworkInterfaceIds=[details["networkInterfaceId"]]
        )["NetworkInterfaces"][0]["Groups"]
        tags = {t["key"]: t["value"] for t in task["tags"]}
        stored = instance.get_run_by_id(run.run_id)
    assert task["taskDefinitionArn"] == run_definition
    assert task["launchType"] == "FARGATE"
    assert details["subnetId"] == subnet and [g["GroupId"] for g in groups] == [group]
    (override,) = task["overrides"]["containerOverrides"]
    assert override["name"] == "run"
    # `dagster` from the PATH the image's orchestrator target sets (its console scripts).
    assert override["command"][:3] == ["dagster", "api", "execute_run"]
    arguments = json.loads(override["command"][3])
    assert arguments["pipeline_run_id"] == run.run_id  # the run, and the instance to report to
    instance_ref = json.dumps(arguments["instance_ref"])
    # The run task reads the same environment variables (not this process's values).
    assert "EcsRunLauncher" in instance_ref and "DAGSTER_RUN_TASK_DEFINITION" in instance_ref
    assert ENVIRONMENT["DAGSTER_RUN_TASK_DEFINITION"] not in instance_ref
    assert len(json.dumps(task["overrides"])) < 8192  # ECS's limit on a task's overrides
    assert tags["dagster/run_id"] == run.run_id
    assert tags["marketdata/provider"] == "yahoo" and tags["dagster/backfill"] == "abcdefgh"
    assert stored is not None and stored.tags["ecs/task_arn"] == launched
