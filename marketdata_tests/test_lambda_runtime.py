"""The real Lambda entrypoint (awslambdaric) against a stand-in Runtime API, storage on moto's
server: the runtime contract of the container image, proved without Docker."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from marketdata_tests.conftest import create_lake_and_table, free_port

pytestmark = pytest.mark.system


EVENT = {"source": "marketdata.scheduler", "scheduled_time": "2026-11-25T14:31:00Z"}
REQUEST_ID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"


class RuntimeAPI(ThreadingHTTPServer):
    """Serves one invocation, then holds further `next` calls until the test ends."""

    def __init__(self, port: int):
        super().__init__(("127.0.0.1", port), _Handler)
        self.served = False
        self.answered = threading.Event()
        self.closing = threading.Event()
        self.outcome: tuple[str, dict] | None = None


class _Handler(BaseHTTPRequestHandler):
    server: RuntimeAPI

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/2018-06-01/runtime/invocation/next":
            self.send_error(404)
            return
        if self.server.served:
            self.server.closing.wait(120)
            self.send_error(410)
            return
        self.server.served = True
        body = json.dumps(EVENT).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", REQUEST_ID)
        self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
        self.send_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:marketdata-tick",
        )
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        kind = self.path.rsplit("/", 1)[-1]  # response | error
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.outcome = (f"{self.path.split('/')[-2]}/{kind}", payload)
        self.server.answered.set()


def assert_embedded_metrics(line: dict, function: str, validated: int, failed: int) -> None:
    """The log line is CloudWatch EMF: namespace MarketData, dimension Function, three metrics
    (the missing-ticks alarm uses Ticks) and the other counts as plain fields."""
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "MarketData" and directive["Dimensions"] == [["Function"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "Ticks": "Count",
        "Quarantined": "Count",
        "ProviderErrors": "Count",
    }
    assert isinstance(line["_aws"]["Timestamp"], int) and line["Function"] == function
    assert (line["Ticks"], line["Validated"], line["Failed"]) == (1, validated, failed)
    assert isinstance(line["DurationMs"], int) and line["DurationMs"] >= 0


def test_awslambdaric_runs_the_handler_and_posts_the_tick_summary(
    moto_server: str, aws_credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    create_lake_and_table("lake", "latest")
    runtime = RuntimeAPI(free_port())
    threading.Thread(target=runtime.serve_forever, daemon=True).start()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime.server_address[1]}",
        "MARKETDATA_PROFILE": "aws",
        "MARKETDATA_BUCKET": "lake",
        "MARKETDATA_TABLE": "latest",
        "HOME": str(home),
        "AWS_LAMBDA_FUNCTION_NAME": "marketdata-tick",
    }
    env.pop("DAGSTER_HOME", None)
    function = subprocess.Popen(
        [sys.executable, "-m", "awslambdaric", "marketdata_assets.lambda_handler.handler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        answered = runtime.answered.wait(300)  # readiness wait for a cold start, not a limit
    finally:
        runtime.closing.set()
        function.kill()
        output = function.communicate(timeout=30)[0].decode()
        runtime.shutdown()
    assert answered, output[-3000:]
    assert runtime.outcome == (
        f"{REQUEST_ID}/response",
        {
            "tick": "2026-11-25T14:31Z",
            "raw": 10,
            "validated": 10,
            "quarantined": 0,
            "latest_updated": 10,
            "latest_stale": 0,
            "latest_unchanged": 0,
            "provider_errors": 0,
            # The requests the tick made to moto, counted where botocore sends them (latest_prices
            # reads this tick's price_reference: the eighth GetObject). Nothing is earlier in the
            # lake, so the reference lookup lists the five minutes before the tick, then one
            # one-key listing for the tick's day and for each day of its 7-day lookback: nine
            # (the Lambda's listing of the minute's run records is before the counted span).
            "aws_requests": {
                "dynamodb.UpdateItem": 10,
                "s3.DeleteObject": 1,
                "s3.GetObject": 8,
                "s3.ListObjectsV2": 9,
                "s3.PutObject": 6,
            },
            "bytes_stored": runtime.outcome[1]["bytes_stored"],
            "duration_ms": runtime.outcome[1]["duration_ms"],
        },
    )
    assert runtime.outcome[1]["bytes_stored"] > 0
    log = [
        json.loads(line) for line in output.splitlines() if line.startswith('{"message": "tick"')
    ]
    assert log[0]["request_id"] == REQUEST_ID and log[0]["validated"] == 10
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="lake")["Contents"]]
    assert sorted(key.split("/")[0] for key in keys) == [  # and the tick's lock was released
        "curated",
        "quarantine",
        "raw",
        "reference",
        "runs",
        "validated",
    ]
    record_key = "runs/date=2026-11-25/minute=1431/run.json"
    record = json.loads(boto3.client("s3").get_object(Bucket="lake", Key=record_key)["Body"].read())
    assert (record["request_id"], record["source"], record["outcome"]) == (
        REQUEST_ID,
        "lambda",
        "succeeded",
    )
    assert (record["validated"], record["quarantined"]) == (10, 0)
    assert {c["check"] for c in record["checks"] if c["passed"]} == {
        "provider_delivered",
        "schema_contract",
        "expectation_suite",
        "quarantine_share",
        "rows_written",
    }
    assert_embedded_metrics(log[0], function="marketdata-tick", validated=10, failed=0)
    # The invocation's time, then the tick's (to its run record's write), then the record's own.
    tick_ms = runtime.outcome[1]["duration_ms"]
    assert log[0]["DurationMs"] == log[0]["duration_ms"] >= tick_ms >= record["duration_ms"] > 0
    assert boto3.client("dynamodb").scan(TableName="latest")["Count"] == 10
    assert list(home.iterdir()) == []
