"""One Dagster instance for the CLI and `make dev` by default (issue 21, item 6): with
DAGSTER_HOME unset, a CLI backfill records its run and its partitions in `.dagster_home` beside
the data folder (with the default data folder, `data`, the project root's: the folder the
Makefile's `dev` target gives `dagster dev`), writing the project's dagster.yaml (telemetry off)
into it, and no command warns about the instance."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from marketdata_assets.settings import DEFAULT_DAGSTER_HOME

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[1]
SESSION = "2026-11-25"


def cli(cwd: Path, *args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`marketdata ARGS` in a fresh interpreter at `cwd`, no MARKETDATA_* nor DAGSTER_* set
    (DAGSTER_HOME=`home` when given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETDATA_", "DAGSTER_"))}
    env |= {"DAGSTER_HOME": str(home)} if home else {}
    command = [sys.executable, "-m", "marketdata_assets.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def make_dev_home(env: dict[str, str]) -> str:
    """The DAGSTER_HOME `make dev` would give `dagster dev` under `env` (a dry run: `make -n`),
    having checked that it puts the project's dagster.yaml there when the folder has none."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETDATA_", "DAGSTER_"))}
    done = subprocess.run(
        ["make", "-n", "dev"], cwd=ROOT, env=base | env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if "/dagster dev " in line]
    home = re.fullmatch(r"DAGSTER_HOME=(\S+) \S+/dagster dev .*", line)
    assert home is not None, line
    assert f"cp marketdata_assets/dagster.yaml {home.group(1)}/" in done.stdout
    return home.group(1)


@pytest.mark.parametrize(
    "env",
    [{}, {"MARKETDATA_DATA_DIR": "/tmp/lake-12/data"}, {"MARKETDATA_DATA_DIR": "rel/lake/"}],
    ids=["default", "absolute", "relative"],
)
def test_make_dev_uses_the_folder_the_cli_defaults_to(env: dict[str, str]) -> None:
    # The README's tour exports a temporary MARKETDATA_DATA_DIR: `make dev` must then open the
    # instance beside it, where the CLI recorded its runs, not the project root's.
    data_dir = Path(env.get("MARKETDATA_DATA_DIR", "data"))
    expected = (ROOT / data_dir).absolute().parent / DEFAULT_DAGSTER_HOME
    assert make_dev_home(env) == str(expected)
    assert (ROOT / "marketdata_assets" / "dagster.yaml").is_file()


def test_make_dev_uses_dagster_home_when_it_is_set(tmp_path: Path) -> None:
    env = {"DAGSTER_HOME": str(tmp_path / "home"), "MARKETDATA_DATA_DIR": str(tmp_path / "lake")}
    assert make_dev_home(env) == str(tmp_path / "home")


def test_a_backfill_without_dagster_home_lands_in_the_instance_make_dev_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = cli(tmp_path, "backfill", "--from", SESSION, "--to", SESSION, "--symbols", "AAPL")
    assert done.returncode == 0, done.stderr
    assert "dagster.yaml" not in done.stderr and "instance" not in done.stderr.lower()
    home = tmp_path / DEFAULT_DAGSTER_HOME  # beside ./data, as `make dev` runs from the root
    assert (tmp_path / "data").is_dir()
    assert (home / "dagster.yaml").read_text() == (
        ROOT / "marketdata_assets" / "dagster.yaml"
    ).read_text()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = DagsterInstance.get()  # what `dagster dev` opens there
    (run,) = instance.get_runs()
    assert run.job_name == "history_job" and run.is_success
    partitions = {
        record.partition_key
        for record in instance.fetch_materializations(AssetKey("minute_bars"), limit=10).records
    }
    assert partitions == {SESSION}
    assert instance.telemetry_enabled is False
    # The same folder given as DAGSTER_HOME: the same instance, still no warning.
    again = cli(tmp_path, "status", "--sync", home=home)
    assert again.returncode == 0 and "dagster.yaml" not in again.stderr, again.stderr
