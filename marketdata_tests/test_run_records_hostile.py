"""Malformed run records never jam a reader (issue 20, item 6): an object under `runs/` that is
no run record (not JSON, a JSON array or number, a tick missing, of the wrong type or of another
minute, counts as text, negative or NaN, assets or checks of the wrong shape, an unknown
outcome, deep nesting, an empty or binary file, a lone surrogate) is one warning line on stderr
naming its key; `marketdata status` and `status --json` (its list keeps its shape) and
`/api/ticks` list the good records around it; the sensor and `status --sync` report it as the
tick graph's checks failed, naming its key and problem, and their cursor moves past it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata_assets.cli import main
from marketdata_assets.lake import LocalObjectStore, object_key
from marketdata_assets.lake.codecs import encode
from marketdata_assets.market.ticks import floor_minute, format_tick
from marketdata_assets.operations import run_records
from marketdata_assets.operations.run_records import RunOrigin, Skipped
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app
from marketdata_assets.web.minutes import tick_row

# Three minutes in a row, well inside `status`'s lookback: good, malformed, good.
NOW = floor_minute(datetime.now(UTC))
TICKS = [NOW - timedelta(minutes=k) for k in (3, 2, 1)]
BAD = TICKS[1]
BAD_KEY = run_records.record_key(BAD)


def good(tick: datetime, validated: int = 10) -> dict[str, Any]:
    """A record as a CLI tick writes it: counts, one asset with its key, one check."""
    record = run_records.new_record(
        tick,
        RunOrigin("cli", started_at=tick),
        "succeeded",
        raw=validated,
        validated=validated,
        quarantined=0,
        provider_errors=0,
        latest_updated=validated,
        latest_stale=0,
        assets=[
            {"asset": "raw_ticks", "key": object_key("raw", tick), "metadata": {"records": 10}}
        ],
        checks=[
            {
                "asset": "raw_ticks",
                "check": "provider_delivered",
                "evaluated": True,
                "passed": True,
                "severity": "ERROR",
                "metadata": {"records": 10, "errors_by_symbol": {}},
            }
        ],
    )
    record["duration_ms"] = 1500  # as measured, fixed: the same record whenever it is built
    return record


def spoiled(**changes: object) -> Callable[[], bytes]:
    """A good record of BAD with `changes` (a value of None-as-sentinel `...` drops the field)."""

    def body() -> bytes:
        record = good(BAD)
        for name, value in changes.items():
            if value is ...:
                record.pop(name)
            else:
                record[name] = value
        return json.dumps(record).encode()

    return body


def nested(depth: int) -> Callable[[], bytes]:
    def body() -> bytes:
        record = good(BAD)
        record["checks"][0]["metadata"]["deep"] = "@"
        text = json.dumps(record)
        return text.replace('"@"', "[" * depth + "]" * depth).encode()

    return body


# Every malformed shape tried: its name and its bytes.
MALFORMED: dict[str, Callable[[], bytes]] = {
    "not_json": lambda: b'{"tick": nope',
    "json_array": lambda: b"[1, 2, 3]",
    "json_number": lambda: b"42",
    "missing_tick": spoiled(tick=...),
    "tick_of_wrong_type": spoiled(tick=202611251431),
    "tick_unparseable": spoiled(tick="2026-11-25 14:31"),
    "tick_of_another_minute": spoiled(tick=format_tick(TICKS[0])),
    "count_as_text": spoiled(validated="10"),
    "count_negative": spoiled(quarantined=-3),
    "count_nan": spoiled(validated=float("nan")),
    "assets_not_a_list": spoiled(assets={"raw_ticks": {}}),
    "asset_entry_a_number": spoiled(assets=[7]),
    "asset_without_metadata": spoiled(assets=[{"asset": "raw_ticks", "key": None}]),
    "checks_not_a_list": spoiled(checks="none"),
    "check_without_severity": spoiled(
        checks=[{"asset": "raw_ticks", "check": "x", "evaluated": True, "passed": True}]
    ),
    "outcome_unknown": spoiled(outcome="exploded"),
    "nesting_beyond_the_parser": nested(100_000),
    "nesting_deep": nested(200),
    "empty_file": lambda: b"",
    "binary": lambda: bytes(range(256)) * 4,
    "lone_surrogate": spoiled(cause="\ud800"),
}


def write_lake(root: Path, shape: str) -> LocalObjectStore:
    store = LocalObjectStore(root)
    for tick in (TICKS[0], TICKS[2]):
        run_records.write(store, good(tick))
    store.put(BAD_KEY, MALFORMED[shape]())
    return store


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("MARKETDATA_PROFILE", "MARKETDATA_BUCKET", "MARKETDATA_TABLE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "lake"
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(root))
    return root


def assert_one_warning(err: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"marketdata: warning: run record {BAD_KEY} skipped: "), err


@pytest.mark.domain
@pytest.mark.parametrize("shape", MALFORMED)
def test_a_malformed_record_is_skipped_with_one_line_naming_its_key_by_status_and_api(
    local: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    store = write_lake(local, shape)
    found = run_records.parse(BAD_KEY, store.get(BAD_KEY))
    assert isinstance(found, Skipped) and found.key == BAD_KEY
    good_ticks = [format_tick(TICKS[2]), format_tick(TICKS[0])]

    assert main(["status"]) == 0
    out, err = capsys.readouterr()
    assert_one_warning(err)
    assert [line.split()[0] for line in out.splitlines()[1:]] == good_ticks

    assert main(["status", "--json"]) == 0
    out, err = capsys.readouterr()
    assert_one_warning(err)
    rows = json.loads(out)
    assert isinstance(rows, list) and [row["tick"] for row in rows] == good_ticks
    assert [row["validated"] for row in rows] == [10, 10]

    with TestClient(create_app(StorageSettings(data_dir=local))) as client:
        answer = client.get("/api/ticks")
    assert answer.status_code == 200
    assert [row["tick"] for row in answer.json()] == good_ticks
    assert_one_warning(capsys.readouterr().err)


@pytest.mark.domain
def test_a_malformed_record_beside_a_raw_object_is_read_from_the_objects(local: Path) -> None:
    store = write_lake(local, "binary")
    payload = b'{"fetch": {"symbol": "AAPL", "error": "HTTPError: 503"}}\n'
    store.put(object_key("raw", BAD), encode("raw", payload))
    row = tick_row(store, BAD, {"runs": BAD_KEY, "raw": object_key("raw", BAD)})
    assert row is not None
    assert (row["tick"], row["outcome"], row["raw"]) == (format_tick(BAD), "failed", 1)


# Any JSON value, strings with lone surrogates and numbers of any size among them.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(codec=None)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
# Request counts as the aws profile writes them, and near misses (bad names, negative counts).
REQUESTS = st.dictionaries(
    st.sampled_from(["s3.PutObject", "dynamodb.UpdateItem", "s3", "S3.Put Object"]) | st.text(),
    st.integers() | JSON,
    max_size=4,
)
FIELDS = ["tick", "outcome", "source", "request_id", "duration_ms", "validated", "assets",
          "checks", "cause", "aws_requests", "bytes_stored", "extra"]  # fmt: skip


def changed(field: str, value: object, where: str) -> dict[str, Any] | Skipped:
    """A good record with one `field` (at its top, of an asset or of a check) set to `value`,
    as the reader reads it."""
    record = good(BAD)
    holder = {"top": record, "asset": record["assets"][0], "check": record["checks"][0]}[where]
    holder[field] = value
    return run_records.parse(BAD_KEY, json.dumps(record).encode())


def readable(found: dict[str, Any] | Skipped) -> None:
    """What every reader does with a record: the status table and JSON, the dashboard's row."""
    if isinstance(found, Skipped):
        assert "\n" not in found.warning and BAD_KEY in found.warning
        return
    run_records.status_table([found]).encode()
    json.dumps([run_records.status_row(found)], allow_nan=False)


@pytest.mark.domain
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON)
def test_any_json_value_as_a_record_is_read_or_skipped_never_a_crash(value: object) -> None:
    body = json.dumps(value).encode()
    readable(run_records.parse(BAD_KEY, body))


@pytest.mark.domain
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(FIELDS),
    value=JSON | REQUESTS,
    where=st.sampled_from(["top", "asset", "check"]),
)
def test_a_record_with_any_one_field_changed_is_read_or_skipped_never_a_crash(
    field: str, value: object, where: str
) -> None:
    found = changed(field, value, where)
    readable(found)
    if not isinstance(found, Skipped):
        with_text = run_records.status_table([found])
        assert with_text.splitlines()[1].startswith(format_tick(BAD))


@pytest.mark.domain
def test_a_record_as_the_writer_writes_it_is_read() -> None:
    record = good(BAD)
    assert run_records.parse(BAD_KEY, run_records.encode(record)) == record
    skip = run_records.skipped(BAD, RunOrigin("lambda", "req"), run_records.MARKET_CLOSED)
    assert run_records.parse(BAD_KEY, run_records.encode(skip)) == skip
