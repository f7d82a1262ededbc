"""A backfill's flags are refused, not ignored: an option the chosen history provider does not
read (`--source` for a provider that reads no file) is one line naming the flag and the
provider, exit 2, and nothing written: no lake object, no data folder, no Dagster run (issue
20, item 4). The same rule holds for raw_history's config in a Dagster run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance

from marketdata_assets.cli import main
from marketdata_assets.errors import ConfigError
from marketdata_assets.execution.batches import execute_batch, history_job
from marketdata_assets.providers import registry
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store

pytestmark = pytest.mark.graph

SESSION = "2026-11-25"
# The history providers that read no file, and those that do (from their specs, not by name).


def _reads_source(name: str) -> bool:
    history = registry.spec(name).history
    return history is not None and "source" in history.options


NO_SOURCE = [name for name in registry.history_sources() if not _reads_source(name)]
READS_SOURCE = [name for name in registry.history_sources() if _reads_source(name)]


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(the data folder, not made yet; an empty DAGSTER_HOME), with no provider configured."""
    data, home = tmp_path / "data", tmp_path / "dagster"
    home.mkdir()
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(data))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("MARKETDATA_PROVIDER", raising=False)
    monkeypatch.delenv("MARKETDATA_SYMBOLS", raising=False)
    return data, home


@pytest.fixture
def bars_file(tmp_path: Path) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text(
        "symbol,ts,open,high,low,close,volume\n"
        f"AAPL,{SESSION}T09:30:00-05:00,100,101,99.5,100.5,1000\n"
        f"AAPL,{SESSION}T09:31:00-05:00,100.5,100.9,100.1,100.2,800\n"
    )
    return path


def _backfill(*flags: str) -> list[str]:
    return ["backfill", "--from", SESSION, "--to", SESSION, "--symbols", "AAPL", *flags]


def _refused(
    capsys: pytest.CaptureFixture[str], folders: tuple[Path, Path], provider: str, path: Path
) -> None:
    """Exit 2 was returned: one error line naming --source, the file and the provider, nothing
    on stdout, no data folder, and DAGSTER_HOME as empty as it was (no run recorded)."""
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("marketdata: error: --source ")
    assert str(path) in lines[0] and f"the {provider} provider" in lines[0]
    if READS_SOURCE:
        assert f"--provider {READS_SOURCE[0]}" in lines[0]
    data, home = folders
    assert not data.exists()
    assert list(home.iterdir()) == []


def test_source_for_a_provider_that_reads_no_file_is_refused(
    folders: tuple[Path, Path], bars_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_backfill("--provider", "stub", "--source", str(bars_file))) == 2
    _refused(capsys, folders, "stub", bars_file)


def test_source_through_the_default_provider_is_refused(
    folders: tuple[Path, Path], bars_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    default = Settings().provider
    assert default in NO_SOURCE  # the default provider reads no file
    assert main(_backfill("--source", str(bars_file))) == 2
    _refused(capsys, folders, default, bars_file)


@pytest.mark.parametrize("provider", NO_SOURCE)
def test_every_provider_without_a_file_refuses_source_before_it_is_built(
    folders: tuple[Path, Path], bars_file: Path, capsys: pytest.CaptureFixture[str], provider: str
) -> None:
    # A provider that needs a key or charges a budget is refused before either is looked up.
    assert main(_backfill("--provider", provider, "--source", str(bars_file))) == 2
    _refused(capsys, folders, provider, bars_file)


def test_a_file_backfill_with_source_still_runs(
    folders: tuple[Path, Path],
    bars_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DAGSTER_HOME")  # an ephemeral instance: a persistent one is system tier
    assert READS_SOURCE
    code = main(_backfill("--provider", READS_SOURCE[0], "--source", str(bars_file), "--json"))
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["sessions"], summary["rows"], summary["validated"]) == (1, 2, 2)
    assert summary["failed"] == []
    assert lake_store(Settings(data_dir=folders[0])).keys("minute_bars/") != []


def test_an_empty_source_is_not_given(folders: tuple[Path, Path]) -> None:
    # `source=""` is how a run without --source reaches the resource: nothing to refuse.
    registry.check_history_options("stub", source="")
    registry.check_history_options("stub", source=None)
    with pytest.raises(ConfigError, match=r"^--source 'x\.csv': the stub provider does not use"):
        registry.check_history_options("stub", source="x.csv")


def test_a_dagster_run_with_a_source_its_provider_does_not_read_fails_with_the_line(
    tmp_path: Path, bars_file: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "lake", symbols=("AAPL",))
    request = {"provider": "stub", "symbols": ["AAPL"], "source": str(bars_file), "force": False}
    with DagsterInstance.ephemeral() as instance:
        outcome = execute_batch(
            history_job(settings), settings, [date.fromisoformat(SESSION)], request, instance
        )

    assert outcome.error is not None
    assert outcome.error.startswith("step raw_history: ")
    line = f"--source {str(bars_file)!r}: the stub provider does not use --source"
    assert line in outcome.error and "\n" not in outcome.error
    lake = lake_store(settings)
    assert [key for name in ("raw_history", "minute_bars") for key in lake.keys(f"{name}/")] == []
