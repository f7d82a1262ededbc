"""The whole `Definitions` against a committed snapshot: asset keys, groups, kinds, partitions,
dependencies with their partition mappings, checks, jobs with their selections and executors,
schedules, sensors and resource keys. A change to any of them shows as a diff of
`snapshots/definitions.json`; when the change is meant, rewrite it with

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest marketdata_tests/test_definitions_snapshot.py

and commit the file with the change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from dagster import Definitions

from marketdata_assets.definitions import build_definitions
from marketdata_assets.defs.partitions import trading_sessions
from marketdata_assets.settings import Settings

pytestmark = pytest.mark.graph

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def committed() -> dict[str, Any]:
    """The committed snapshot: the reviewed list of assets, checks and jobs tests compare with."""
    return json.loads(SNAPSHOT.read_text())


def _mapping(mapping: object | None) -> str:
    return "default" if mapping is None else repr(mapping)


def _partitions(partitions_def: object | None) -> str | None:
    if partitions_def is None:
        return None
    return "trading_sessions" if partitions_def == trading_sessions else repr(partitions_def)


def definitions_snapshot(defs: Definitions) -> dict[str, Any]:
    """Everything the snapshot holds, as sorted plain values."""
    graph = defs.resolve_asset_graph()
    checks: dict[str, list[dict[str, Any]]] = {}
    for key in sorted(graph.asset_check_keys, key=str):
        spec = graph.get_check_spec(key)
        checks.setdefault(key.asset_key.to_user_string(), []).append(
            {"check": key.name, "blocking": spec.blocking}
        )
    assets = {
        spec.key.to_user_string(): {
            "group": spec.group_name,
            "kinds": sorted(spec.kinds),
            "partitions": _partitions(spec.partitions_def),
            "deps": {
                dep.asset_key.to_user_string(): _mapping(dep.partition_mapping)
                for dep in sorted(spec.deps, key=lambda dep: dep.asset_key.to_user_string())
            },
            "checks": checks.get(spec.key.to_user_string(), []),
        }
        for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string())
    }
    jobs = {
        job.name: {
            "executor": job.executor_def.name,
            "partitions": _partitions(job.partitions_def),
            "assets": sorted(key.to_user_string() for key in job.asset_layer.selected_asset_keys),
            "checks": sorted(
                f"{key.asset_key.to_user_string()}:{key.name}"
                for key in job.asset_layer.asset_graph.asset_check_keys
            ),
        }
        for job in sorted(defs.resolve_all_job_defs(), key=lambda job: job.name)
        if not job.name.startswith("__")
    }
    schedules = {
        schedule.name: {
            "job": schedule.job_name,
            "cron": schedule.cron_schedule,
            "timezone": schedule.execution_timezone,
            "default_status": schedule.default_status.value,
        }
        for schedule in sorted(
            (defs.resolve_schedule_def(s.name) for s in defs.schedules or []), key=lambda s: s.name
        )
    }
    sensors = {
        sensor.name: {
            "minimum_interval_seconds": sensor.minimum_interval_seconds,
            "default_status": sensor.default_status.value,
            "resources": sorted(sensor.required_resource_keys),
        }
        for sensor in sorted(
            (defs.resolve_sensor_def(s.name) for s in defs.sensors or []), key=lambda s: s.name
        )
    }
    resources = {key: type(value).__name__ for key, value in sorted((defs.resources or {}).items())}
    return {
        "assets": assets,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": resources,
    }


def test_definitions_match_the_committed_snapshot(tmp_path: Path) -> None:
    current = definitions_snapshot(build_definitions(Settings(data_dir=tmp_path)))
    text = json.dumps(current, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: run with UPDATE_SNAPSHOTS=1 to write it"
    assert current == committed(), "Definitions changed: if meant, rerun with UPDATE_SNAPSHOTS=1"


def test_lock_holding_jobs_run_in_one_process_and_the_others_in_parallel() -> None:
    jobs = definitions_snapshot(build_definitions(Settings()))["jobs"]
    # the tick and the history hold their locks in a resource to the run's end
    assert jobs["tick_job"]["executor"] == jobs["history_job"]["executor"] == "in_process"
    for name in ("forecast_job", "compaction_job"):
        assert jobs[name]["executor"] == "parallel_executor"
    from marketdata_assets.defs.schedules import parallel_executor

    resolved = parallel_executor.config_schema.resolve_config({})
    assert resolved.value["config"]["max_concurrent"] == os.cpu_count()


def test_private_dagster_imports_live_in_one_module() -> None:
    import ast

    import marketdata_assets

    root = Path(marketdata_assets.__file__).parent
    private = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(name.startswith("dagster._") for name in names):
                private.setdefault(path.relative_to(root).as_posix(), []).append(names[0])
    assert list(private) == ["defs/launch.py"]
    assert len(private["defs/launch.py"]) == 6  # modules; seven names, each with why


def test_every_asset_publishes_its_dataset_columns_from_the_registry() -> None:
    from marketdata_assets.lake.datasets import dataset_columns, registry

    defs = build_definitions(Settings())
    specs = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}
    published = 0
    for entry in registry():
        if entry.asset is None:
            continue
        schema = specs[entry.asset].metadata.get("dagster/column_schema")
        columns = [(c.name, c.type, c.description) for c in schema.columns] if schema else []
        assert columns == dataset_columns(entry.name), entry.name
        published += bool(columns)
    assert published >= 8  # the tick's four tables and reference, the history's five
