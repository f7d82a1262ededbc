"""Price providers: each turns a tick into a raw payload of JSON Lines, exactly as received."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from marketdata_assets.errors import ConfigError

if TYPE_CHECKING:
    from marketdata_assets.providers.budget import RequestBudget

PROVIDERS = ("stub", "replay", "alphavantage", "yahoo")


def _parse_yahoo(body: str, fetch: Mapping[str, object]) -> dict[str, object] | None:
    from marketdata_assets.providers.yahoo import parse

    return parse(body)


def _parse_alphavantage(body: str, fetch: Mapping[str, object]) -> dict[str, object] | None:
    from marketdata_assets.providers.alphavantage import parse

    return parse(body, fetch)


EnvelopeParser = Callable[[str, Mapping[str, object]], "dict[str, object] | None"]

# Provider -> parser of the bodies its envelopes carry (pure: body text and fetch metadata to
# a record of the Quote fields as the provider sent them).
ENVELOPE_PARSERS: dict[str, EnvelopeParser] = {
    "alphavantage": _parse_alphavantage,
    "yahoo": _parse_yahoo,
}


class Provider(Protocol):
    """Fetches the raw payload for one tick: one JSON record per line, bytes untouched."""

    name: str

    def fetch(self, tick: datetime) -> bytes: ...


def make_provider(
    name: str,
    symbols: Sequence[str],
    *,
    seed: int = 7,
    fault_rate: float = 0.0,
    source: str | None = None,
    budget: RequestBudget | None = None,
    key_param: str | None = None,
) -> Provider:
    """The provider called `name`, configured; an unknown name is a ConfigError.

    alphavantage needs a request `budget`; its key comes from the environment or from the
    SSM parameter `key_param`.
    """
    if name == "stub":
        from marketdata_assets.providers.stub import StubProvider

        if not 0.0 <= fault_rate <= 1.0:
            raise ConfigError(f"fault rate {fault_rate}: must be between 0 and 1")
        return StubProvider(symbols, seed=seed, fault_rate=fault_rate)
    if name == "replay":
        from marketdata_assets.providers.replay import ReplayProvider

        if not source:
            raise ConfigError("--source: the replay provider needs a JSON Lines file or s3:// URI")
        return ReplayProvider(source)
    if name == "yahoo":
        from marketdata_assets.providers.yahoo import YahooProvider

        return YahooProvider(symbols)
    if name == "alphavantage":
        from marketdata_assets.providers.alphavantage import AlphaVantageProvider, api_key

        if budget is None:
            raise ConfigError("alphavantage: needs a request budget")
        return AlphaVantageProvider(symbols, api_key(key_param), budget)
    raise ConfigError(f"provider {name!r}: unknown; choose one of {', '.join(PROVIDERS)}")
