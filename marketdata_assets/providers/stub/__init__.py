"""The stub: one seeded market (`market`), quoted every minute and kept as 1-minute history.

Its settings are the platform's own MARKETDATA_SEED and MARKETDATA_FAULT_RATE (the CLI's
--seed and --fault-rate), so its section has no fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from marketdata_assets.errors import ConfigError
from marketdata_assets.providers.chart_readers import action_text, actions, read, row_text
from marketdata_assets.providers.spec import Build, History, Quotes, VendorSpec

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from marketdata_assets.providers import Provider
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


def _stand_in(clock: Callable[[], datetime]) -> AbstractContextManager[dict[str, str]]:
    """The stub is offline already: it stands in for itself."""
    from contextlib import nullcontext

    return nullcontext({})


# Its tick lines are flat records (`providers.flat`); its history bodies are chart-shaped
# (`providers.chart_readers`).
SPEC = VendorSpec(
    name=NAME,
    summary="a seeded random-walk market with optional defects (offline; the default)",
    quotes=Quotes(build=_provider, stand_in=_stand_in),
    history=History(
        build=_history,
        read=read,
        row_text=row_text,
        actions=actions,
        action_text=action_text,
    ),
)
