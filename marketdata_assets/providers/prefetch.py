"""The tick's provider, as configured, and its fetch started ahead of the run.

A cold Lambda spends seconds importing Dagster and Great Expectations; the provider's fetch is
I/O and needs neither. So the handler starts the fetch in a thread as soon as it knows the tick
and the settings (`prefetching`), and the run's raw_ticks, asking for the provider of the same
configuration (`provider`), gets the payload, or the error, exactly as its own fetch would have
(raw still lands before anything parses it). No Dagster here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from marketdata_assets import stores
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.operations.time_budget import FETCH_DEADLINE_S
from marketdata_assets.providers import Provider, make_provider

if TYPE_CHECKING:
    from marketdata_assets.providers.budget import RequestBudget
    from marketdata_assets.settings import Settings


@dataclass(frozen=True)
class ProviderSpec:
    """Everything that makes the tick's provider (names only: an API key is never here)."""

    name: str = "stub"
    symbols: tuple[str, ...] = ()
    seed: int = 7
    fault_rate: float = 0.0
    source: str | None = None
    daily_budget: int = 25  # requests a day, for providers with a daily quota
    budget_path: str | None = None  # local: the request-budget file
    budget_table: str | None = None  # aws: the request-budget table
    key_param: str | None = None  # aws: the SSM SecureString holding the API key
    fetch_deadline_s: float = FETCH_DEADLINE_S  # the tick's fetching, for HTTP providers

    @classmethod
    def of(cls, settings: Settings) -> ProviderSpec:
        budget_path, budget_table = stores.budget_names(settings)
        return cls(
            name=settings.provider,
            symbols=tuple(settings.symbols),
            seed=settings.seed,
            fault_rate=settings.fault_rate,
            source=settings.source,
            daily_budget=settings.alphavantage_daily_budget,
            budget_path=budget_path,
            budget_table=budget_table,
            key_param=settings.alphavantage_key_param,
            fetch_deadline_s=settings.fetch_deadline_s,
        )

    def build(self) -> Provider:
        """The provider, its key looked up and, for an HTTP provider, the tick's deadline set."""
        provider = make_provider(
            self.name,
            self.symbols,
            seed=self.seed,
            fault_rate=self.fault_rate,
            source=self.source,
            budget=self.budget() if self.name == "alphavantage" else None,
            key_param=self.key_param,
        )
        policy = getattr(provider, "policy", None)
        if policy is not None:  # an HTTP provider (yahoo, alphavantage): the run's deadline
            cast(Any, provider).policy = replace(policy, deadline_s=self.fetch_deadline_s)
        return provider

    def budget(self) -> RequestBudget:
        return request_budget(self.name, self.daily_budget, self.budget_path, self.budget_table)


def request_budget(
    provider: str, daily_budget: int, path: str | None, table: str | None
) -> RequestBudget:
    """The provider's daily request budget: a DynamoDB table on aws, else a local file."""
    if table or not path:
        return stores.dynamo_budget(table, provider, daily_budget)
    return stores.file_budget(Path(path), provider, daily_budget)


class Prefetch:
    """One tick's fetch, running in its own thread from construction: building the provider
    (its key and budget lookups included) and fetching. A provider for that tick: `fetch` waits
    and returns the payload or raises the error; another tick is fetched afresh."""

    def __init__(self, spec: ProviderSpec, tick: datetime):
        self.spec, self.tick, self.name = spec, tick, spec.name
        self._payload: bytes | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"prefetch {format_tick(tick)}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._payload = self.spec.build().fetch(self.tick)
        except BaseException as error:  # raised to the run, as its own fetch would raise it
            self._error = error

    def fetch(self, tick: datetime) -> bytes:
        if tick != self.tick:
            return self.spec.build().fetch(tick)
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._payload is not None
        return self._payload


_started: dict[ProviderSpec, Prefetch] = {}
_lock = threading.Lock()


@contextmanager
def prefetching(spec: ProviderSpec, tick: datetime) -> Iterator[Prefetch]:
    """Start fetching `tick` now; within the block, the first `provider(spec)` is this fetch.
    Left untaken (the run stopped before raw_ticks), it is forgotten at the end of the block."""
    started = Prefetch(spec, tick)
    with _lock:
        _started[spec] = started
    try:
        yield started
    finally:
        with _lock:
            if _started.get(spec) is started:
                del _started[spec]


def provider(spec: ProviderSpec) -> Provider:
    """The provider of `spec`: a fetch started for it (served once), else one built now."""
    with _lock:
        started = _started.pop(spec, None)
    return started if started is not None else spec.build()
