"""Alpha Vantage: GLOBAL_QUOTE for the tick, TIME_SERIES_INTRADAY (by month) for history, with
SPLITS and DIVIDENDS (once per symbol per backfill) for its corporate actions.

It needs an API key and charges a daily request budget (the free tier: 25 requests a day).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import Field

from marketdata_assets.operations.sections import ProviderSection, variable
from marketdata_assets.providers.spec import Build, History, Quotes, VendorSpec

if TYPE_CHECKING:
    from marketdata_assets.providers import Provider
    from marketdata_assets.providers.action_rows import ActionRow
    from marketdata_assets.providers.bars import BodyReading
    from marketdata_assets.providers.history import HistorySource

NAME = "alphavantage"
DEFAULT_URL = "https://www.alphavantage.co"


class AlphaVantageSettings(ProviderSection):
    """Alpha Vantage: where it answers, its daily quota and (on AWS) where its key is kept."""

    url: str = Field(
        DEFAULT_URL, validation_alias="MARKETDATA_ALPHAVANTAGE_URL", description="a base URL"
    )
    # Requests a day (the free tier's quota).
    daily_budget: int = Field(
        25,
        ge=1,
        le=1_000_000,
        validation_alias="MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET",
        description="a whole number from 1 to 1000000",
    )
    # aws profile: the SSM SecureString holding the key (locally the key is ALPHAVANTAGE_API_KEY).
    key_param: str | None = Field(
        None,
        validation_alias="ALPHAVANTAGE_API_KEY_PARAM",
        description="an SSM parameter name",
        json_schema_extra={"aws_only": True},
    )


def _key(build: Build) -> str:
    from marketdata_assets.providers.alphavantage.keys import api_key

    return api_key(build.settings.providers.alphavantage.key_param)


def _provider(build: Build) -> Provider:
    from marketdata_assets.providers.alphavantage.quotes import AlphaVantageProvider
    from marketdata_assets.providers.fetching import FetchPolicy

    assert build.budget is not None  # the registry gives a budget to a vendor that charges one
    settings = build.settings
    return AlphaVantageProvider(
        settings.symbols,
        _key(build),
        build.budget,
        FetchPolicy(deadline_s=settings.fetch_deadline_s, workers=settings.fetch_concurrency),
        base_url=settings.providers.alphavantage.url,
        budget_variable=variable(NAME, "daily_budget"),
    )


def _parse(body: str, fetch: Mapping[str, object]) -> dict[str, object] | None:
    from marketdata_assets.providers.alphavantage.quotes import parse

    return parse(body, fetch)


def _history(build: Build) -> HistorySource:
    from marketdata_assets.providers.alphavantage.history import AlphaVantageHistory

    assert build.budget is not None
    return AlphaVantageHistory(
        _key(build),
        build.budget,
        None,
        build.settings.providers.alphavantage.url,
        budget_variable=variable(NAME, "daily_budget"),
        first_session=build.first_session,
    )


def _read(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    from marketdata_assets.providers.alphavantage.series import read_series

    return read_series(body, symbol, session, envelope)


def _row_text(body: str, item: int) -> str:
    from marketdata_assets.providers.alphavantage.series import series_row_text

    return series_row_text(body, item)


def _actions(envelope: dict[str, Any], session: date) -> list[ActionRow]:
    from marketdata_assets.providers.alphavantage.actions import read_actions

    return read_actions(envelope, session)


def _action_text(envelope: dict[str, Any], item: int) -> str:
    from marketdata_assets.providers.alphavantage.actions import action_text

    return action_text(envelope, item)


SPEC = VendorSpec(
    name=NAME,
    summary="Alpha Vantage (an API key; 25 requests a day on the free tier)",
    quotes=Quotes(build=_provider, parse=_parse),
    history=History(
        build=_history,
        read=_read,
        row_text=_row_text,
        actions=_actions,
        action_text=_action_text,
    ),
    settings=AlphaVantageSettings,
    needs_key=True,
    charges_budget=True,
)
