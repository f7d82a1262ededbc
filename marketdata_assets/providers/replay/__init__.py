"""Replay: a landed raw object (or any JSON Lines file, local or in S3) as a tick's payload."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketdata_assets.errors import ConfigError
from marketdata_assets.providers.spec import Build, Quotes, VendorSpec

if TYPE_CHECKING:
    from marketdata_assets.providers import Provider
    from marketdata_assets.settings import Settings

NAME = "replay"


def _source(settings: Settings) -> str:
    if not settings.source:
        raise ConfigError("--source: the replay provider needs a JSON Lines file or s3:// URI")
    return settings.source


def _provider(build: Build) -> Provider:
    from marketdata_assets.providers.replay.quotes import ReplayProvider

    return ReplayProvider(_source(build.settings))


def _check(settings: Settings) -> None:
    from marketdata_assets.providers.replay.quotes import check_source

    check_source(_source(settings))


# Its lines are flat records (`providers.flat`), or an HTTP provider's envelopes as landed:
# curation reads each line by what it is, so replay needs no parser of its own.
SPEC = VendorSpec(
    name=NAME,
    summary="replays a JSON Lines file or s3:// object (MARKETDATA_SOURCE, --source)",
    quotes=Quotes(build=_provider, check=_check, replays_raw=True),
)
