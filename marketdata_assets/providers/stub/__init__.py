"""The stub: one seeded market (`market`), quoted every minute and kept as 1-minute history.

Its settings are the platform's own MARKETDATA_SEED and MARKETDATA_FAULT_RATE (the CLI's
--seed and --fault-rate), so its section has no fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from marketdata_assets.errors import ConfigError
from marketdata_assets.providers.spec import Build, History, Quotes, VendorSpec

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from marketdata_assets.providers import Provider
    from marketdata_assets.providers.action_rows import ActionRow
    from marketdata_assets.providers.bars import BodyReading
    from marketdata_assets.providers.history import HistorySource

NAME = "stub"


def _provider(build: Build) -> Provider:
    from marketdata_assets.providers.stub.quotes import StubProvider

    settings = build.settings
    if not 0.0 <= settings.fault_rate <= 1.0:
        raise ConfigError(f"fault rate {settings.fault_rate}: must be between 0 and 1")
    return StubProvider(settings.symbols, seed=settings.seed, fault_rate=settings.fault_rate)


def _history(build: Build) -> HistorySource:
    from marketdata_assets.providers.stub.history import StubHistory

    return StubHistory(seed=build.settings.seed)


def _read(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    from marketdata_assets.providers.chart import read_chart

    return read_chart(body, symbol, session, envelope)


def _row_text(body: str, item: int) -> str:
    from marketdata_assets.providers.chart import chart_row_text

    return chart_row_text(body, item)


def _stand_in(clock: Callable[[], datetime]) -> AbstractContextManager[dict[str, str]]:
    """The stub is offline already: it stands in for itself."""
    from contextlib import nullcontext

    return nullcontext({})


def _actions(envelope: dict[str, Any], session: date) -> list[ActionRow]:
    from marketdata_assets.providers.chart_events import read_chart_events

    return read_chart_events(envelope, session)


def _action_text(envelope: dict[str, Any], item: int) -> str:
    from marketdata_assets.providers.chart_events import chart_event_text

    return chart_event_text(envelope, item)


# Its tick lines are flat records (`providers.flat`); its history bodies are chart-shaped.
SPEC = VendorSpec(
    name=NAME,
    summary="a seeded random-walk market with optional defects (offline; the default)",
    quotes=Quotes(build=_provider, stand_in=_stand_in),
    history=History(
        build=_history,
        read=_read,
        row_text=_row_text,
        actions=_actions,
        action_text=_action_text,
    ),
)
