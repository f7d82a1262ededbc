"""The Dockerfile's two targets from one lock: the tick's image leaves the orchestrator's
packages out, the orchestrator's image adds exactly them (each stage's own `uv export` command,
read from the Dockerfile and run against uv.lock)."""

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[1]

ORCHESTRATOR = {"dagster-aws", "dagster-postgres", "psycopg2-binary", "dagster-webserver"}


def stage_exports() -> dict[str, list[str]]:
    """Each Dockerfile stage's `uv export …` arguments, by stage name."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: dict[str, list[str]] = {}
    for stage in re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]:
        name = stage.split("\n", 1)[0].split(" AS ")[-1].strip()
        found = re.search(r"uv export ([^>]*)>", stage)
        if found:
            stages[name] = shlex.split(found.group(1))
    return stages


def exported(arguments: list[str]) -> set[str]:
    """The distributions `uv export <arguments>` pins from uv.lock (uv as the Makefile finds
    it: on PATH, else the one `make install` bootstraps)."""
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    done = subprocess.run(
        [uv, "export", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {
        line.split("==")[0].lower()
        for line in done.stdout.splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }


def test_the_tick_image_leaves_the_orchestrator_out_and_its_own_target_adds_it() -> None:
    stages = stage_exports()
    assert set(stages) == {"tick", "orchestrator"}
    tick, orchestrator = exported(stages["tick"]), exported(stages["orchestrator"])
    assert {"dagster", "great-expectations", "pandas"} <= tick
    assert not tick & ORCHESTRATOR
    assert orchestrator >= ORCHESTRATOR
    # dagster-aws and dagster-postgres pair with the pinned dagster (1.x with 0.(x+16).y).
    pinned = (ROOT / "pyproject.toml").read_text()
    major_minor_patch = re.search(r'"dagster==1\.(\d+)\.(\d+)"', pinned)
    assert major_minor_patch
    minor, patch = major_minor_patch.groups()
    for library in ("dagster-aws", "dagster-postgres"):
        assert f'"{library}==0.{int(minor) + 16}.{patch}"' in pinned
    assert f'"dagster-webserver==1.{minor}.{patch}"' in pinned


def test_the_orchestrator_image_carries_the_instance_and_the_workspace() -> None:
    text = (ROOT / "Dockerfile").read_text()
    orchestrator = text.split("AS orchestrator", 1)[1]
    assert "COPY infra/modules/orchestrator/dagster.yaml /opt/dagster/dagster.yaml" in orchestrator
    assert "DAGSTER_HOME=/opt/dagster" in orchestrator
    assert 'COPY workspace.yaml "${LAMBDA_TASK_ROOT}/workspace.yaml"' in orchestrator
    assert "ENTRYPOINT []" in orchestrator  # ECS runs the task definition's command as it is
    workspace = (ROOT / "workspace.yaml").read_text()
    assert "module_name: marketdata_assets.definitions" in workspace
