"""The lake as a Dagster resource: state a step genuinely needs beyond its declared inputs.

The IO managers only load a step's inputs and store its outputs. What else a step reads or
writes goes through this resource, so it is named in the step's signature: the gate's as-of
price reference (the newest earlier tick's) and the splits of a tick's session, the session's
raw responses `raw_history` merges a re-fetch into, the tick stream's minute objects
`validated_daily` folds, and the run records the sensor reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
from dagster import ConfigurableResource

from marketdata_assets import stores
from marketdata_assets.gate.reference import Reference, reference_from_frame
from marketdata_assets.gate.splits import splits_on
from marketdata_assets.lake import ObjectStore, day_keys, latest_key_before, present_key
from marketdata_assets.lake.codecs import decode
from marketdata_assets.lake.locks import Lock


class LakeResource(ConfigurableResource):
    """The profile's lake at `address` (`stores.lake_address`: a local folder, or s3://BUCKET
    through the process's one S3 client)."""

    address: str

    def store(self) -> ObjectStore:
        return stores.lake_at(self.address)

    def tick_lock(self) -> Lock:
        return stores.tick_lock_at(self.address)

    def history_lock(self) -> Lock:
        return stores.history_lock_at(self.address)

    def load_days(self, name: str, sessions: Iterable[date]) -> dict[str, object]:
        """The daily dataset's objects of `sessions` that exist, {session key: value} (an object
        under an earlier name of the dataset's included)."""
        store, loaded = self.store(), {}
        for session in sessions:
            key = present_key(store, day_keys(name, session))
            if key is not None:
                loaded[session.isoformat()] = decode(name, store.get(key), key)
        return loaded

    def splits_on(self, session: date) -> dict[str, float]:
        """The split ratios of the session's corporate_actions object (`gate.splits`)."""
        return splits_on(self.store(), session)

    def reference_before(self, tick: datetime) -> tuple[str | None, Reference]:
        """The price reference written by the newest tick before `tick` (its key, its state)."""
        store = self.store()
        key = latest_key_before(store, "reference", tick)
        if key is None:
            return None, {}
        frame = decode("reference", store.get(key))
        assert isinstance(frame, pd.DataFrame)
        return key, reference_from_frame(frame)
