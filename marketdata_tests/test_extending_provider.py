"""The recipe proven: a new vendor is its package plus one registry entry (2 places).

The tiny vendor below stands for `providers/acme/__init__.py` (its spec, settings section,
provider, envelope parser, history source and body reader); `registry.register(SPEC)` is the
line `VENDORS` would hold. Nothing else is touched: Settings accepts it and reads its section
from the environment, the CLI lists it, curation parses its envelopes, a tick through it lands
validated rows, and its history is parsed into bar candidates.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from pydantic import Field

from marketdata_assets.errors import ConfigError
from marketdata_assets.execution.tick import run_tick
from marketdata_assets.market.calendar import session_minutes
from marketdata_assets.operations import sections
from marketdata_assets.operations.sections import ProviderSection
from marketdata_assets.providers import Provider, registry
from marketdata_assets.providers.bars import BodyReading, Rows
from marketdata_assets.providers.history import HistorySource, envelope, payload
from marketdata_assets.providers.history_parse import parse_history
from marketdata_assets.providers.spec import Build, History, Quotes, VendorSpec
from marketdata_assets.settings import Settings
from marketdata_assets.tick.curation import curate

pytestmark = pytest.mark.graph

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
SESSION = date(2026, 11, 25)


# --- providers/acme/__init__.py ------------------------------------------------------------------


class AcmeSettings(ProviderSection):
    """Acme: its price level."""

    level: float = Field(100.0, gt=0, description="a positive price")  # MARKETDATA_ACME_LEVEL


class AcmeProvider:
    name = "acme"

    def __init__(self, symbols: Sequence[str], level: float):
        self.symbols, self.level = tuple(symbols), level

    def fetch(self, tick: datetime) -> bytes:
        at = (tick + timedelta(seconds=5)).isoformat()
        lines = [
            {
                "fetch": {"provider": "acme", "symbol": symbol, "status": 200, "at": at},
                "body": f"{symbol} {self.level + i} {at}",
            }
            for i, symbol in enumerate(self.symbols)
        ]
        return "".join(json.dumps(line) + "\n" for line in lines).encode()


def parse(body: str, fetch: Mapping[str, object]) -> dict[str, object] | None:
    symbol, price, at = body.split(" ")
    return {
        "symbol": symbol,
        "price": float(price),
        "event_ts": at,
        "currency": "USD",
        "day_volume": 1000,
        "exchange": "ACME",
        "exchange_tz": "America/New_York",
        "trading_day": SESSION.isoformat(),
    }


class AcmeHistory:
    name = "acme"

    def __init__(self, level: float):
        self.level = level

    def requests_needed(self, sessions: Sequence[date], symbols: Sequence[str]) -> int:
        return 0

    def symbols(self) -> None:
        return None

    def fetch(self, session: date, symbols: Sequence[str]) -> bytes:
        starts = [int(start.timestamp()) for start in session_minutes(session)[:3]]
        body = json.dumps({"starts": starts, "close": [self.level] * len(starts)})
        return payload([envelope("acme", symbol, session, body) for symbol in sorted(symbols)])


def read(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    data = json.loads(body)
    close = np.array(data["close"], dtype=np.float64)
    return BodyReading(
        Rows(
            item=np.arange(len(close)),
            start_us=np.array(data["starts"], dtype=np.int64) * 1_000_000,
            start_ok=np.ones(len(close), bool),
            open=close,
            high=close,
            low=close,
            close=close,
            volume=np.full(len(close), 10.0),
            interval="1m",
            symbol=symbol,
        )
    )


def row_text(body: str, item: int) -> str:
    data = json.loads(body)
    return json.dumps({"start": data["starts"][item], "close": data["close"][item]})


def _provider(build: Build) -> Provider:
    return AcmeProvider(build.settings.symbols, build.settings.providers.acme.level)


def _history(build: Build) -> HistorySource:
    return AcmeHistory(build.settings.providers.acme.level)


SPEC = VendorSpec(
    name="acme",
    summary="Acme's made-up quotes",
    quotes=Quotes(build=_provider, parse=parse),
    history=History(build=_history, read=read, row_text=row_text),
    settings=AcmeSettings,
)


# --- the one registry line, undone after each test ------------------------------------------------


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> VendorSpec:
    monkeypatch.setattr(registry, "_SPECS", dict(registry._SPECS))
    monkeypatch.setattr(sections, "_SECTIONS", dict(sections._SECTIONS))
    monkeypatch.setattr(sections, "_TICK_PROVIDERS", list(sections._TICK_PROVIDERS))
    return registry.register(SPEC)


def test_settings_accept_the_new_vendor_and_read_its_section(acme: VendorSpec) -> None:
    read = Settings.from_env({"MARKETDATA_PROVIDER": "acme", "MARKETDATA_ACME_LEVEL": "42.5"})
    assert (read.provider, read.providers.acme.level) == ("acme", 42.5)
    assert Settings().providers.acme.level == 100.0
    with pytest.raises(ConfigError, match=r"^MARKETDATA_ACME_LEVEL='-1': must be a positive price"):
        Settings.from_env({"MARKETDATA_ACME_LEVEL": "-1"})


def test_the_cli_lists_the_new_vendor(acme: VendorSpec, capsys: pytest.CaptureFixture) -> None:
    from marketdata_assets.cli import main

    for command in ("tick", "backfill"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "acme (default: MARKETDATA_PROVIDER)" in " ".join(capsys.readouterr().out.split())


def test_curation_parses_the_new_vendors_envelopes(acme: VendorSpec) -> None:
    curated = curate(AcmeProvider(["IBM", "KO"], 50.0).fetch(TICK), TICK)
    assert curated["symbol"].tolist() == ["IBM", "KO"]
    assert curated["price"].tolist() == [50.0, 51.0]
    assert curated["parsed"].all() and (curated["exchange"] == "ACME").all()


def test_a_tick_through_the_new_vendor_lands_validated_rows(acme: VendorSpec, tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data", provider="acme", symbols=("IBM", "KO"))
    summary = run_tick(settings.with_overrides(providers={"acme": {"level": 75.0}}), TICK)
    assert (summary.raw, summary.validated, summary.quarantined) == (2, 2, 0)
    assert summary.latest_updated == 2


def test_the_new_vendors_history_is_parsed_into_bars(acme: VendorSpec) -> None:
    assert "acme" in registry.history_sources()
    source = registry.build_history_source(Settings(providers={"acme": {"level": 7.0}}), "acme")
    parsed = parse_history(source.fetch(SESSION, ["IBM"]), SESSION)
    candidates = parsed.candidates
    assert len(candidates) == 3 and set(candidates["source"]) == {"acme"}
    assert candidates["close"].tolist() == [7.0] * 3 and parsed.errors == {}
    assert candidates["start"].iloc[0] == session_minutes(SESSION)[0]
