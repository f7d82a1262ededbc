import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketdata_assets.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(folder))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.graph
def test_tick_json_prints_exactly_one_summary_object(data_dir, capsys) -> None:
    code, out, _ = run(
        capsys, "tick", "--at", "2026-11-25T14:31Z", "--symbols", "aapl,ko", "--json"
    )
    assert code == 0
    summary = json.loads(out)
    # From the start of the run to its last store write: the run record's, whose own duration
    # was measured just before it was written.
    record = json.loads((data_dir / "runs/date=2026-11-25/minute=1431/run.json").read_text())
    assert summary.pop("duration_ms") >= record["duration_ms"] > 0
    assert summary == {
        "tick": "2026-11-25T14:31Z",
        "raw": 2,
        "validated": 2,
        "quarantined": 0,
        "latest_updated": 2,
        "latest_stale": 0,
        "latest_unchanged": 0,
        "provider_errors": 0,
        "market": "open",
    }
    code, out, _ = run(capsys, "latest", "--json")
    rows = json.loads(out)
    assert [r["symbol"] for r in rows] == ["AAPL", "KO"]
    assert set(rows[0]) == {"symbol", "price", "currency", "event_ts", "tick"}
    assert rows[0]["tick"] == "2026-11-25T14:31Z" and rows[0]["event_ts"].startswith(
        "2026-11-25T14:31:"
    )


@pytest.mark.graph
@pytest.mark.parametrize(
    "minute",
    ["2026-11-29T17:00Z", "2026-11-26T15:00Z", "2026-11-27T18:00Z", "2026-11-25T14:29Z"],
    ids=["sunday", "thanksgiving", "after-the-early-close", "before-the-open"],
)
def test_a_tick_on_a_closed_market_runs_and_says_the_market_is_closed(
    data_dir, capsys, minute: str
) -> None:
    code, out, _ = run(capsys, "tick", "--at", minute, "--symbols", "AAPL", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["market"] == "closed" and summary["validated"] == 1
    code, out, _ = run(capsys, "tick", "--at", minute, "--symbols", "AAPL")
    assert code == 0 and out.rstrip().endswith("; the market is closed at this minute")


@pytest.mark.graph
def test_quarantine_lists_original_records_and_reasons(data_dir, capsys) -> None:
    args = ("tick", "--at", "2026-11-25T14:31Z", "--fault-rate", "1", "--json")
    code, out, _ = run(capsys, *args)
    quarantined = json.loads(out)["quarantined"]
    code, out, _ = run(capsys, "quarantine", "--tick", "2026-11-25T14:31Z", "--json")
    records = json.loads(out)
    assert code == 0 and len(records) == quarantined > 0
    for record in records:
        assert record["tick"] == "2026-11-25T14:31Z" and record["reasons"]
        assert ("record" in record) != ("raw" in record)
    run(capsys, *args)  # a rerun replaces, never appends
    assert len(json.loads(run(capsys, "quarantine", "--json")[1])) == quarantined
    assert json.loads(run(capsys, "quarantine", "--tick", "2026-11-25T14:32Z", "--json")[1]) == []


@pytest.mark.graph
def test_human_output_shows_the_summary_and_the_table(data_dir, capsys) -> None:
    code, out, _ = run(capsys, "tick", "--at", "2026-11-25T14:31Z")
    assert code == 0
    assert out.startswith("tick 2026-11-25T14:31Z: 10 raw, 10 validated, 0 quarantined")
    code, out, _ = run(capsys, "latest")
    assert out.splitlines()[0].split() == ["SYMBOL", "PRICE", "CCY", "EVENT_TS", "TICK"]
    assert len(out.splitlines()) == 11


@pytest.mark.graph
def test_rerun_summary_counts_the_prices_the_table_already_held(data_dir, capsys) -> None:
    args = ("tick", "--at", "2026-11-25T14:31Z", "--symbols", "AAPL,KO")
    assert run(capsys, *args)[0] == 0
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert out.splitlines()[0] == (
        "tick 2026-11-25T14:31Z: 2 raw, 2 validated, 0 quarantined, 0 latest prices updated"
        " (2 stale: the table already held these or newer prices)"
    )
    summary = json.loads(run(capsys, *args, "--json")[1])
    assert (summary["latest_updated"], summary["latest_stale"]) == (0, 2)


@pytest.mark.graph
def test_human_output_counts_quarantined_rows_by_reason(data_dir, capsys) -> None:
    code, out, _ = run(capsys, "tick", "--at", "2026-11-25T14:31Z", "--fault-rate", "0.5")
    assert code == 0
    assert "quarantined by reason: " in out and "price_invalid" in out


@pytest.mark.graph
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "bloomberg"], "--provider 'bloomberg': must be one of stub, replay"),
        (["--at", "2026-11-25 14:31"], "--at '2026-11-25 14:31': needs a UTC offset or Z"),
        (["--at", "noon"], "--at 'noon': not an ISO-8601 time"),
        (["--symbols", " , "], "--symbols ' , ': the symbol list is empty"),
        (["--symbols", "AAPL,../x"], "--symbols 'AAPL,../x': '../X' is not a symbol"),
        (["--fault-rate", "7"], "--fault-rate '7': must be a number between 0 and 1"),
        (["--seed", "seven"], "--seed 'seven': must be a whole number from 0 to 4294967295"),
        (["--at", "2099-01-01T00:00Z"], "--at '2099-01-01T00:00Z': must be a minute from 1970"),
        (
            ["--provider", "replay", "--source", "/no/such.jsonl"],
            "--source '/no/such.jsonl': no such",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    data_dir, capsys, args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "tick", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"marketdata: error: {message}")
    assert not data_dir.exists()


@pytest.mark.graph
def test_unwritable_data_dir_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(blocker / "data"))
    code, _, err = run(capsys, "tick", "--at", "2026-11-25T14:31Z")
    assert code == 2
    assert err.startswith(f"marketdata: error: MARKETDATA_DATA_DIR '{blocker / 'data'}': not a")
    assert blocker.read_text() == "not a folder"


@pytest.mark.graph
def test_missing_dagster_home_is_a_clear_error(data_dir, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(data_dir.parent / "no-home"))
    code, _, err = run(capsys, "tick", "--at", "2026-11-25T14:31Z")
    assert code == 2
    home = data_dir.parent / "no-home"
    assert err == f"marketdata: error: DAGSTER_HOME '{home}': not a folder; create it or unset it\n"


@pytest.mark.system
def test_console_script_is_installed_and_fails_cleanly(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("marketdata")
    env = {**os.environ, "MARKETDATA_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [str(script), "tick", "--at", "14:31"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert done.stderr == (
        "marketdata: error: --at '14:31': not an ISO-8601 time (example: 2026-11-25T14:31Z)\n"
    )
