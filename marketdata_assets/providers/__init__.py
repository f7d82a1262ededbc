"""Price providers: each turns a tick into a raw payload of JSON Lines, exactly as received."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from marketdata_assets.errors import ConfigError

PROVIDERS = ("stub", "replay", "yahoo")


def _parse_yahoo(body: str) -> dict[str, object] | None:
    from marketdata_assets.providers.yahoo import parse

    return parse(body)


# Provider -> parser of the bodies its envelopes carry (pure: body text to a raw record).
ENVELOPE_PARSERS = {"yahoo": _parse_yahoo}


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
) -> Provider:
    """The provider called `name`, configured; an unknown name is a ConfigError."""
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
    raise ConfigError(f"provider {name!r}: unknown; choose one of {', '.join(PROVIDERS)}")
