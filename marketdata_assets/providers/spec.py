"""What a vendor package exports: one `VendorSpec`, the registry's only view of the vendor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from marketdata_assets.operations.sections import ProviderSection

if TYPE_CHECKING:
    from marketdata_assets.operations.request_budget import RequestBudget
    from marketdata_assets.providers import Provider
    from marketdata_assets.providers.action_rows import ActionsReader, ActionTexter
    from marketdata_assets.providers.bars import BodyReader, RowTexter
    from marketdata_assets.providers.history import HistorySource
    from marketdata_assets.settings import Settings

# Reads one envelope's body: (body text, fetch metadata) -> the Quote fields as sent, or None.
EnvelopeParser = Callable[[str, Mapping[str, object]], "dict[str, object] | None"]
# An offline stand-in for the vendor, to measure what its ticks cost (`marketdata cost`):
# entered with the clock of the simulated minute, it answers as the vendor does, with bodies of
# realistic size, and yields the environment variables that point the provider at it.
StandIn = Callable[[Callable[[], datetime]], AbstractContextManager[dict[str, str]]]


@dataclass(frozen=True)
class Build:
    """What a builder gets: the settings, the vendor's request budget (when it charges one)
    and, for history, the `--source` file, the backfill's first session and the `--actions`
    file."""

    settings: Settings
    budget: RequestBudget | None = None
    source: str | None = None
    first_session: date | None = None
    actions: str | None = None


@dataclass(frozen=True)
class Quotes:
    """The tick capability: the provider, and the parser of its envelope bodies (None: its
    lines are flat records, `providers.flat`)."""

    build: Callable[[Build], Provider]
    parse: EnvelopeParser | None = None
    # What the CLI checks before a run beyond building (a replay source that must exist).
    check: Callable[[Settings], None] | None = None
    # It replays landed raw objects (`--source`): the provider a quarantined tick's replay
    # command names.
    replays_raw: bool = False
    # None: its ticks cannot be measured offline.
    stand_in: StandIn | None = None


@dataclass(frozen=True)
class History:
    """The history capability: the source, and the reader of the bodies its envelopes hold."""

    build: Callable[[Build], HistorySource]
    read: BodyReader
    row_text: RowTexter
    # The backfill options its source reads beyond the range and the symbols (`Build` fields,
    # each the flag `--<option>`): any other one given is refused, not ignored.
    options: frozenset[str] = frozenset()
    # The reader of the corporate actions its envelopes carry, and one action row's text
    # (`providers.actions`); None: its envelopes carry none.
    actions: ActionsReader | None = None
    action_text: ActionTexter | None = None


@dataclass(frozen=True)
class VendorSpec:
    """A vendor: its name, capabilities, settings section and flags."""

    name: str
    summary: str  # one line: what it is, for help and docs
    quotes: Quotes | None = None
    history: History | None = None
    settings: type[ProviderSection] = ProviderSection
    needs_key: bool = False  # an API key, from the environment or an SSM SecureString
    # A daily request budget (its section has `daily_budget`), taken before any request.
    charges_budget: bool = False
