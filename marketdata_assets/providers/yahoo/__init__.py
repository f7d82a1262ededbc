"""Yahoo Finance's chart API: quotes for the tick and 1-minute (or daily) bars for history."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field

from marketdata_assets.operations.sections import ProviderSection
from marketdata_assets.providers.chart_readers import action_text, actions, row_text
from marketdata_assets.providers.spec import Build, History, Quotes, VendorSpec

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from marketdata_assets.providers import Provider
    from marketdata_assets.providers.bars import BodyReading
    from marketdata_assets.providers.history import HistorySource

NAME = "yahoo"
DEFAULT_URL = "https://query1.finance.yahoo.com"


class YahooSettings(ProviderSection):
    """Yahoo: where its chart API answers."""

    url: str = Field(
        DEFAULT_URL,
        validation_alias="MARKETDATA_YAHOO_URL",
        description="an http(s) base URL",
    )


def _provider(build: Build) -> Provider:
    from marketdata_assets.providers.fetching import FetchPolicy
    from marketdata_assets.providers.yahoo.quotes import YahooProvider

    settings = build.settings
    policy = FetchPolicy(deadline_s=settings.fetch_deadline_s, workers=settings.fetch_concurrency)
    return YahooProvider(settings.symbols, policy, base_url=settings.providers.yahoo.url)


def _parse(body: str, fetch: Mapping[str, object]) -> dict[str, object] | None:
    from marketdata_assets.providers.yahoo.quotes import parse

    return parse(body)


def _history(build: Build) -> HistorySource:
    from marketdata_assets.providers.yahoo.history import YahooHistory

    return YahooHistory(None, build.settings.providers.yahoo.url)


def _read(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    from marketdata_assets.providers.chart import read_chart
    from marketdata_assets.providers.yahoo.basis import traded_basis
    from marketdata_assets.providers.yahoo.history import DAILY_NOTE

    reading = read_chart(body, symbol, session, envelope, daily_note=DAILY_NOTE)
    return traded_basis(reading, envelope, session)


def _stand_in(clock: Callable[[], datetime]) -> AbstractContextManager[dict[str, str]]:
    from marketdata_assets.providers.yahoo.stand_in import serving

    return serving(clock)


SPEC = VendorSpec(
    name=NAME,
    summary="Yahoo Finance's chart API (no key)",
    quotes=Quotes(build=_provider, parse=_parse, stand_in=_stand_in),
    history=History(
        build=_history,
        read=_read,
        row_text=row_text,
        actions=actions,
        action_text=action_text,
    ),
    settings=YahooSettings,
)
