"""The tick's provider, as configured, and its fetch started ahead of the run.

A cold Lambda spends seconds importing Dagster and Great Expectations; the provider's fetch is
I/O and needs neither. So the handler starts the fetch in a thread as soon as it knows the tick
and the settings (`prefetching`), and the run's raw_ticks, asking for the provider of the same
settings (`provider`), gets the payload, or the error, exactly as its own fetch would have
(raw still lands before anything parses it). No Dagster here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from marketdata_assets.market.ticks import format_tick
from marketdata_assets.providers import Provider
from marketdata_assets.providers.registry import build_provider
from marketdata_assets.settings import Settings


def pinned(settings: Settings) -> Settings:
    """The settings with the data folder made absolute, so a run in another working directory
    uses the same request-budget file; what a prefetch is matched by."""
    return settings.with_overrides(data_dir=settings.data_dir.resolve())


def _key(settings: Settings) -> str:
    return pinned(settings).model_dump_json()


class Prefetch:
    """One tick's fetch, running in its own thread from construction: building the provider
    (its key and budget lookups included) and fetching. A provider for that tick: `fetch` waits
    and returns the payload or raises the error; another tick is fetched afresh."""

    def __init__(self, settings: Settings, tick: datetime):
        self.settings, self.tick, self.name = settings, tick, settings.provider
        self._payload: bytes | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"prefetch {format_tick(tick)}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._payload = build_provider(self.settings).fetch(self.tick)
        except BaseException as error:  # raised to the run, as its own fetch would raise it
            self._error = error

    def fetch(self, tick: datetime) -> bytes:
        if tick != self.tick:
            return build_provider(self.settings).fetch(tick)
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._payload is not None
        return self._payload


_started: dict[str, Prefetch] = {}
_lock = threading.Lock()


@contextmanager
def prefetching(settings: Settings, tick: datetime) -> Iterator[Prefetch]:
    """Start fetching `tick` now; within the block, the first `provider(settings)` of the same
    settings is this fetch. Left untaken (the run stopped before raw_ticks), it is forgotten at
    the end of the block."""
    key = _key(settings)
    started = Prefetch(settings, tick)
    with _lock:
        _started[key] = started
    try:
        yield started
    finally:
        with _lock:
            if _started.get(key) is started:
                del _started[key]


def provider(settings: Settings) -> Provider:
    """The provider of `settings`: a fetch started for them (served once), else one built
    now (`registry.build_provider`)."""
    with _lock:
        started = _started.pop(_key(settings), None)
    return started if started is not None else build_provider(settings)
