"""The read side's parameters are checked once (market.params) for the CLI and the API: the
same bad value gives the same one line on both, naming the flag or the query parameter and the
rule, exit 2 on the CLI and 422 on the API, before any data is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from marketdata_assets.cli import main
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.app import create_app

# (CLI arguments, API request, the API's detail); the CLI's line is the same with `--` names.
SAME_RULE = [
    (
        ["bars", "AAPL", "--from", "2026-13-01"],
        "/api/bars/AAPL?from=2026-13-01",
        "from '2026-13-01': must be a date YYYY-MM-DD",
    ),
    (
        ["analytics", "AAPL", "--to", "2026-W48-3"],
        "/api/analytics/AAPL?to=2026-W48-3",
        "to '2026-W48-3': must be a date YYYY-MM-DD",
    ),
    (
        ["bars", "AAPL", "--from", "2026-11-20", "--to", "2026-11-02"],
        "/api/bars/AAPL?from=2026-11-20&to=2026-11-02",
        "from '2026-11-20': must be on or before to '2026-11-02'",
    ),
    (
        ["bars", "AAPL", "--interval", "2m"],
        "/api/bars/AAPL?interval=2m",
        "interval '2m': must be one of 1m, 5m, 15m, 1h, 1d",
    ),
    (
        ["forecast", "AAPL", "--horizon", "1h"],
        "/api/forecast/AAPL?horizon=1h",
        "horizon '1h': must be one of 1m, 5m, 15m, 1d",
    ),
    (
        ["quarantine", "--tick", "yesterday"],
        "/api/quarantine?tick=yesterday",
        "tick 'yesterday': not an ISO-8601 time (example: 2026-11-25T14:31Z)",
    ),
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("params") / "data"
    with TestClient(create_app(StorageSettings(data_dir=folder))) as client:
        yield client


def cli_name(detail: str) -> str:
    """The API's detail with the flag the CLI names instead of the query parameter."""
    name, rest = detail.split(" ", 1)
    for query in ("from", "to"):
        rest = rest.replace(f"before {query} ", f"before --{query} ")
    return f"--{name} {rest}"


@pytest.mark.domain
@pytest.mark.parametrize(("args", "path", "detail"), SAME_RULE)
def test_a_bad_value_is_the_same_line_on_the_cli_exit_2_and_on_the_api_422(
    api: TestClient,
    args: list[str],
    path: str,
    detail: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    assert main(args) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"marketdata: error: {cli_name(detail)}\n")
    answer = api.get(path)
    assert (answer.status_code, answer.json()) == (422, {"detail": detail})
    assert not (tmp_path / "data").exists()  # nothing was read or written


@pytest.mark.domain
def test_a_symbol_is_checked_by_one_rule_typed_on_the_cli_and_exact_on_the_api(
    api: TestClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    rule = "(rule: ^[A-Z0-9][A-Z0-9.\\-]{0,14}$)"
    assert main(["bars", "A B"]) == 2
    assert capsys.readouterr().err == f"marketdata: error: SYMBOL: 'A B' is not a symbol {rule}\n"
    answer = api.get("/api/bars/A%20B")
    assert answer.status_code == 422
    assert answer.json() == {"detail": f"symbol 'A B': not a symbol {rule}"}
    # The CLI takes a symbol as typed (trimmed, upper-cased); the API's path is exact.
    assert api.get("/api/analytics/aapl").status_code == 422
    assert main(["analytics", " aapl ", "--from", "2026-13-01"]) == 2
    assert "--from '2026-13-01'" in capsys.readouterr().err  # the symbol passed, the day did not
