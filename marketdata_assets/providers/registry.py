"""The vendors, registered once: Settings, the CLI, curation, history parsing, the Lambda
prefetch and the Dagster resources all ask this module, never a vendor by name.

Adding a vendor: write its package `providers/<vendor>/` exporting a `VendorSpec` as `SPEC`,
and add it to `VENDORS` below (its import and its entry: the one line per vendor).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from marketdata_assets.errors import ConfigError
from marketdata_assets.operations.sections import register_provider
from marketdata_assets.providers import Provider, alphavantage, file, replay, stub, yahoo
from marketdata_assets.providers.spec import (
    Build,
    EnvelopeParser,
    History,
    StandIn,
    VendorSpec,
)

if TYPE_CHECKING:
    from marketdata_assets.operations.request_budget import RequestBudget
    from marketdata_assets.providers.history import HistorySource
    from marketdata_assets.settings import Settings

_SPECS: dict[str, VendorSpec] = {}


def register(spec: VendorSpec) -> VendorSpec:
    """Make `spec`'s vendor known: to every lookup here and, with its section, to Settings."""
    _SPECS[spec.name] = spec
    register_provider(spec.name, spec.settings, ticks=spec.quotes is not None)
    return spec


# The one line per vendor, in the order choices are listed (the first tick provider is the
# default MARKETDATA_PROVIDER; the first history source the default backfill source).
VENDORS = (stub.SPEC, replay.SPEC, alphavantage.SPEC, yahoo.SPEC, file.SPEC)
for _spec in VENDORS:
    register(_spec)


def tick_providers() -> tuple[str, ...]:
    """The vendors with a quote capability, for `--provider` of a tick."""
    return tuple(name for name, spec in _SPECS.items() if spec.quotes is not None)


def history_sources() -> tuple[str, ...]:
    """The vendors with a history capability, for `--provider` of a backfill."""
    return tuple(name for name, spec in _SPECS.items() if spec.history is not None)


def measurable_providers() -> tuple[str, ...]:
    """The tick vendors with an offline stand-in, for `--provider` of `marketdata cost`."""
    return tuple(
        name for name, spec in _SPECS.items() if spec.quotes is not None and spec.quotes.stand_in
    )


def stand_in(name: str) -> StandIn:
    """The offline stand-in of the tick vendor `name` (one of `measurable_providers()`)."""
    quotes = _SPECS[name].quotes
    assert quotes is not None and quotes.stand_in is not None
    return quotes.stand_in


def replay_provider() -> str:
    """The tick provider that replays landed raw objects (for a replay command)."""
    return next(
        name for name, spec in _SPECS.items() if spec.quotes is not None and spec.quotes.replays_raw
    )


def choices(names: tuple[str, ...]) -> str:
    """Names as prose for help texts: "a, b or c"."""
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def spec(name: str) -> VendorSpec:
    """The spec of vendor `name`; ConfigError when none is registered."""
    found = _SPECS.get(name)
    if found is None:
        raise ConfigError(f"provider {name!r}: unknown; choose one of {', '.join(_SPECS)}")
    return found


def envelope_parser(name: str) -> EnvelopeParser | None:
    """The parser of `name`'s envelope bodies; None for a vendor without envelopes (its lines
    are flat records) or a name no vendor has."""
    found = _SPECS.get(name)
    return found.quotes.parse if found is not None and found.quotes is not None else None


def history_of(source: str) -> History | None:
    """The history capability whose bodies carry `source`; None when no vendor has it."""
    found = _SPECS.get(source)
    return found.history if found is not None else None


def request_budget(settings: Settings, name: str) -> RequestBudget | None:
    """`name`'s daily request budget in the profile's store; None when it charges none."""
    if not spec(name).charges_budget:
        return None
    from marketdata_assets import stores

    section: Any = settings.providers.of(name)  # a vendor that charges one declares the field
    limit = int(section.daily_budget)
    return stores.request_budget(settings, name, limit)


def build_provider(settings: Settings) -> Provider:
    """The tick's provider as the settings configure it (its key and budget looked up): the one
    way a run, the Lambda's prefetch and the CLI's check build it."""
    quotes = spec(settings.provider).quotes
    if quotes is None:
        raise ConfigError(f"provider {settings.provider!r}: has no quotes for a tick")
    return quotes.build(Build(settings, request_budget(settings, settings.provider)))


def check_provider(settings: Settings) -> Provider:
    """`build_provider`, and what the vendor checks before a run (a replay source exists)."""
    provider = build_provider(settings)
    quotes = spec(settings.provider).quotes
    if quotes is not None and quotes.check is not None:
        quotes.check(settings)
    return provider


def default_history_source(settings: Settings) -> str:
    """The configured provider when it has history, else the first vendor that has."""
    sources = history_sources()
    return settings.provider if settings.provider in sources else sources[0]


def check_history_options(name: str, **given: str | None) -> None:
    """Refuse an option (`source="x.csv"`) the history source `name` does not read: a
    ConfigError of one line naming the flag and the provider. Options left empty are not
    given; a name without history is left to `build_history_source`."""
    found = _SPECS.get(name)
    if found is None or found.history is None:
        return
    for option, value in given.items():
        if not value or option in found.history.options:
            continue
        readers = tuple(
            vendor
            for vendor, other in _SPECS.items()
            if other.history is not None and option in other.history.options
        )
        instead = f"; only --provider {choices(readers)} reads one" if readers else ""
        raise ConfigError(
            f"--{option} {value!r}: the {name} provider does not use --{option}{instead}"
        )


def build_history_source(
    settings: Settings,
    name: str | None = None,
    *,
    source: str | None = None,
    first_session: date | None = None,
    actions: str | None = None,
) -> HistorySource:
    """The history source `name` (default: `default_history_source`); `source` (bars) and
    `actions` (corporate actions) are files for a vendor that reads them. ConfigError for a
    name without history, or an option it does not use (`check_history_options`)."""
    name = name or default_history_source(settings)
    found = _SPECS.get(name)
    if found is None or found.history is None:
        raise ConfigError(
            f"history provider {name!r}: unknown; choose one of {', '.join(history_sources())}"
        )
    check_history_options(name, source=source, actions=actions)
    budget = request_budget(settings, name)
    return found.history.build(Build(settings, budget, source, first_session, actions))
