"""The CLI's contract at its edges, run as a separate process the way a user runs it.

Bad input: exactly one `marketdata: error: …` line, exit 2, nothing written, and refused before
Dagster or Great Expectations is imported. Read commands: import neither, create nothing, and
ignore tick-only settings. A failed tick: one line naming the cause, exit 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from marketdata_tests.conftest import free_port

pytestmark = pytest.mark.system


# Runs the CLI in-process in a fresh interpreter, then reports which heavy packages it imported.
PROBE = """
import json, sys
from marketdata_assets.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
sys.stdout.flush()
print(json.dumps({"code": code, "dagster": "dagster" in sys.modules,
                  "great_expectations": "great_expectations" in sys.modules}))
"""
ERROR = "marketdata: error: "
TICK = "2026-11-25T14:31Z"


@dataclass(frozen=True)
class Probe:
    code: int
    out: str  # what the command printed, the probe's report removed
    err: str
    dagster: bool
    great_expectations: bool


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any MARKETDATA_ or Dagster setting, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MARKETDATA_", "DAGSTER_", "AWS_", "ALPHAVANTAGE_"))
    }
    return env | {"MARKETDATA_DATA_DIR": str(data_dir)} | extra


def probe(env: dict[str, str], *args: str) -> Probe:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env
    )
    *printed, report = done.stdout.splitlines()
    modules = json.loads(report)
    return Probe(
        modules["code"],
        "\n".join(printed),
        done.stderr,
        modules["dagster"],
        modules["great_expectations"],
    )


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "marketdata_assets.cli", *args],
        capture_output=True,
        text=True,
        env=env,
    )


def assert_one_error_line(err: str, starts: str) -> None:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(ERROR + starts), err


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--at", "2099-01-01T00:00Z"], {}, "--at '2099-01-01T00:00Z': must be a minute from 1970"),
        (["--at", "1969-12-31T23:59Z"], {}, "--at '1969-12-31T23:59Z': must be a minute from 1970"),
        (["--at", "0001-01-01T00:00:00+01:00"], {}, "--at '0001-01-01T00:00:00+01:00': must be"),
        (["--at", "9999-12-31T23:59:59-01:00"], {}, "--at '9999-12-31T23:59:59-01:00': must be"),
        (["--seed", "-1"], {}, "--seed '-1': must be a whole number from 0 to 4294967295"),
        (["--seed", "4294967296"], {}, "--seed '4294967296': must be a whole number from 0"),
        (["--fault-rate", "2"], {}, "--fault-rate '2': must be a number between 0 and 1"),
        (["--fault-rate", "nan"], {}, "--fault-rate 'nan': must be a number between 0 and 1"),
        ([], {"MARKETDATA_LOG_LEVEL": "garbage"}, "MARKETDATA_LOG_LEVEL='garbage': must be one of"),
        ([], {"MARKETDATA_FAULT_RATE": "abc"}, "MARKETDATA_FAULT_RATE='abc': must be a number"),
        ([], {"MARKETDATA_JUMP_CONFIRMATIONS": "0"}, "MARKETDATA_JUMP_CONFIRMATIONS='0': must be"),
        (["--symbols", ""], {}, "--symbols '': the symbol list is empty"),
        (["--symbols", "AAPL,BRK/B"], {}, "--symbols 'AAPL,BRK/B': 'BRK/B' is not a symbol"),
        (["--provider", "bloomberg"], {}, "--provider 'bloomberg': must be one of stub, replay"),
        *(
            (["--provider", "replay", "--source", uri], {}, f"--source {uri!r}: an S3 source")
            for uri in ("s3://", "s3:///key", "s3://bucket", "s3://bucket/")
        ),
    ],
)
def test_bad_tick_input_is_one_line_exit_2_before_dagster_is_imported(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    data_dir = tmp_path / "data"
    result = probe(clean_env(data_dir, **env), "tick", *args)
    assert result.code == 2 and result.out == ""
    assert_one_error_line(result.err, message)
    assert not result.dagster and not result.great_expectations
    assert not data_dir.exists()


def moto_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_missing_s3_replay_object_is_one_line_naming_the_uri(
    moto_server: str, tmp_path: Path
) -> None:
    import boto3

    aws = moto_env(moto_server)
    boto3.client("s3", endpoint_url=moto_server, **_boto_args(aws)).create_bucket(Bucket="lake")
    uri = "s3://lake/raw/date=2026-11-25/minute=1431/ticks.jsonl"
    data_dir = tmp_path / "data"
    result = probe(
        clean_env(data_dir, **aws), "tick", "--provider", "replay", "--source", uri, "--at", TICK
    )
    assert result.code == 2
    assert_one_error_line(result.err, f"--source '{uri}': S3 HeadObject failed: no such object")
    assert not result.dagster and not result.great_expectations
    assert not data_dir.exists()


def test_read_commands_name_a_missing_bucket_or_table_in_one_line(
    moto_server: str, tmp_path: Path
) -> None:
    env = clean_env(
        tmp_path / "data",
        **moto_env(moto_server),
        MARKETDATA_PROFILE="aws",
        MARKETDATA_BUCKET="no-lake",
        MARKETDATA_TABLE="no-table",
    )
    latest = probe(env, "latest")
    assert latest.code == 1 and latest.out == ""
    assert_one_error_line(latest.err, "DynamoDB Scan no-table symbol='*' failed: ResourceNotFound")
    quarantine = probe(env, "quarantine", "--json")
    assert quarantine.code == 1 and quarantine.out == ""
    assert_one_error_line(
        quarantine.err, "S3 ListObjectsV2 s3://no-lake/quarantine/ failed: NoSuch"
    )
    history = probe(env, "quarantine", "--history", "--json")
    assert history.code == 1 and history.out == ""
    assert_one_error_line(
        history.err, "S3 ListObjectsV2 s3://no-lake/bars_quarantine/ failed: NoSuch"
    )
    assert not any(p.dagster or p.great_expectations for p in (latest, quarantine, history))


def _boto_args(aws: dict[str, str]) -> dict[str, str]:
    return {
        "region_name": aws["AWS_REGION"],
        "aws_access_key_id": aws["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": aws["AWS_SECRET_ACCESS_KEY"],
    }


@pytest.mark.parametrize(
    ("command", "empty"),
    [
        (["latest"], "(the latest-price table is empty: run `marketdata tick` first)"),
        (["latest", "--json"], "[]"),
        (
            ["quarantine"],
            "(no tick rows quarantined; `marketdata quarantine --history` lists the history's)",
        ),
        (
            ["quarantine", "--history", "--to", "2026-11-25"],
            "(no history bars quarantined: no session of history is held yet; run "
            "`marketdata backfill --from 2026-11-19 --to 2026-11-25`)",
        ),
        (["quarantine", "--json", "--tick", TICK], "[]"),
    ],
)
def test_read_commands_on_an_empty_data_dir_create_nothing(
    tmp_path: Path, command: list[str], empty: str
) -> None:
    # Tick-only settings that are broken must not stop a read command.
    env = clean_env(
        tmp_path / "data",
        MARKETDATA_FAULT_RATE="abc",
        MARKETDATA_SEED="-1",
        MARKETDATA_LOG_LEVEL="garbage",
        MARKETDATA_SYMBOLS="../etc",
        MARKETDATA_PROVIDER="bloomberg",
    )
    result = probe(env, *command)
    assert (result.code, result.out, result.err) == (0, empty, "")
    assert os.listdir(tmp_path) == []


def test_read_commands_still_check_the_settings_they_use(tmp_path: Path) -> None:
    result = probe(clean_env(tmp_path / "data", MARKETDATA_PROFILE="cloud"), "latest")
    assert result.code == 2
    assert_one_error_line(result.err, "MARKETDATA_PROFILE='cloud': must be one of local, aws")


def test_failed_tick_is_one_line_naming_every_provider_error(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = clean_env(tmp_path / "data", MARKETDATA_YAHOO_URL=closed)
    done = cli(env, "tick", "--provider", "yahoo", "--symbols", "AAPL,MSFT")
    assert done.returncode == 1 and done.stdout == ""
    assert_one_error_line(done.stderr, "tick ")
    assert done.stderr.endswith(
        "Z failed: every symbol failed at the provider: "
        "AAPL TransportError: ConnectError; MSFT TransportError: ConnectError\n"
    )


# A replayed tick whose source lines hold numbers strict JSON cannot carry.
NON_FINITE = {
    "A": "NaN",
    "B": "Infinity",
    "C": "-Infinity",
    "D": "1e999",
}


@pytest.fixture(scope="module")
def ticked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ticked")
    source = folder / "source.jsonl"
    rest = '"volume": 10, "currency": "USD", "event_ts": "2026-11-25T14:31:05Z"'
    lines = [f'{{"symbol": "AAPL", "price": 100.5, {rest}}}'] + [
        f'{{"symbol": "{symbol}", "price": {number}, {rest}}}'
        for symbol, number in NON_FINITE.items()
    ]
    source.write_text("\n".join(lines) + "\n")
    data_dir = folder / "data"
    done = cli(
        clean_env(data_dir), "tick", "--provider", "replay", "--source", str(source), "--at", TICK
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"tick {TICK}: 5 raw, 1 validated, 4 quarantined")
    return data_dir


def test_quarantine_json_is_strict_json_keeping_non_finite_numbers_as_text(ticked: Path) -> None:
    result = probe(clean_env(ticked), "quarantine", "--json")
    assert result.code == 0 and result.err == ""
    records = json.loads(
        result.out, parse_constant=lambda c: pytest.fail(f"bare {c} in quarantine --json")
    )
    prices = {r["record"]["symbol"]: r["record"]["price"] for r in records}
    assert prices == NON_FINITE
    assert all("price_invalid" in r["reasons"] for r in records)


def test_latest_over_a_ticked_lake_holds_only_its_finite_price(ticked: Path) -> None:
    result = probe(clean_env(ticked), "latest", "--json")
    assert result.code == 0 and result.err == ""
    assert [(row["symbol"], row["price"]) for row in json.loads(result.out)] == [("AAPL", 100.5)]


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """`marketdata quarantine | head -1`: the pipe closes under a long listing; exit 0, silent."""
    source = tmp_path / "garbage.jsonl"
    source.write_text("".join(f"not json {i} " + "x" * 200 + "\n" for i in range(3000)))
    env = clean_env(tmp_path / "data")
    done = cli(env, "tick", "--provider", "replay", "--source", str(source), "--at", TICK)
    assert done.returncode == 0, done.stderr
    reader = subprocess.Popen(
        [sys.executable, "-m", "marketdata_assets.cli", "quarantine"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline().startswith(TICK.encode())
    reader.stdout.close()
    assert (reader.wait(timeout=120), reader.stderr.read()) == (0, b"")
