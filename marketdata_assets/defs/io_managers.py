"""IO managers for the lake: the same keys and codecs over a local folder or an S3 bucket."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime

import pandas as pd
from dagster import ConfigurableIOManager, InitResourceContext, InputContext, OutputContext
from pydantic import PrivateAttr

from marketdata_assets import stores
from marketdata_assets.defs.tick import tick_of_step
from marketdata_assets.gate.reference import PriceState, reference_from_frame
from marketdata_assets.lake import (
    ObjectStore,
    dataset_of_asset,
    day_key,
    latest_key_before,
    object_key,
    read_if_present,
)
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.lake.locks import LocalTickLock, S3TickLock, TickLock
from marketdata_assets.lake.s3 import S3ObjectStore


class LakeIOManager(ConfigurableIOManager):
    """Stores each tick's dataset at <dataset>/date=YYYY-MM-DD/minute=HHMM/<file>.

    A run takes its tick's lock before its first write and holds it until the run ends, so two
    runs of one minute never mix their objects and each step reads what its own run wrote (the
    tick job runs every step in one process, so the lock spans them all).
    """

    _held: ExitStack | None = PrivateAttr(default=None)
    _ticks_held: set[datetime] = PrivateAttr(default_factory=set)

    def object_store(self) -> ObjectStore:
        raise NotImplementedError

    def tick_lock(self) -> TickLock:
        raise NotImplementedError

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[LakeIOManager]:
        with ExitStack() as held:  # the locks this run takes are released when it ends
            self._held, self._ticks_held = held, set()
            try:
                yield self
            finally:
                self._held = None

    def _hold(self, tick: datetime, run_id: str) -> None:
        if self._held is not None and tick not in self._ticks_held:
            self._held.enter_context(self.tick_lock().hold(tick, f"run {run_id}"))
            self._ticks_held.add(tick)

    def _key(self, context: InputContext | OutputContext) -> str:
        dataset = dataset_of_asset(context.asset_key.path[-1]).name
        return object_key(dataset, tick_of_step(context.step_context))

    def handle_output(self, context: OutputContext, obj: object) -> None:
        spec = dataset_of_asset(context.asset_key.path[-1])
        if spec.grain == "day":
            self._put_days(context, spec.name, obj)
            return
        self._hold(tick_of_step(context.step_context), context.run_id)
        key = self._key(context)
        body = encode(spec.name, obj)
        location = self.object_store().put(key, body)
        context.add_output_metadata({"key": key, "location": location, "bytes": len(body)})

    def load_input(self, context: InputContext) -> object:
        spec = dataset_of_asset(context.asset_key.path[-1])
        if spec.grain == "day":
            return self.load_days(
                spec.name, [date.fromisoformat(k) for k in context.asset_partition_keys]
            )
        return decode(spec.name, self.object_store().get(self._key(context)))

    def _put_days(self, context: OutputContext, name: str, obj: object) -> None:
        """A daily asset's value is {session key: value}, one entry per partition of the run;
        each becomes one object at <dataset>/date=<session>/<file>."""
        if not isinstance(obj, dict) or set(obj) != set(context.asset_partition_keys):
            raise TypeError(
                f"{name}: a daily asset returns {{session: value}} for exactly its partitions "
                f"{context.asset_partition_keys}"
            )
        store, written = self.object_store(), 0
        for key in sorted(obj):
            body = encode(name, obj[key])
            store.put(day_key(name, date.fromisoformat(key)), body)
            written += len(body)
        context.add_output_metadata(
            {
                "keys": f"{name}/date={{{min(obj)}..{max(obj)}}}/",
                "objects": len(obj),
                "bytes": written,
            }
        )

    def load_days(self, name: str, sessions: Iterable[date]) -> dict[str, object]:
        """The daily dataset's objects of `sessions` that exist, {session key: value}: a range
        of days loads as those days."""
        store, loaded = self.object_store(), {}
        for session in sessions:
            body = read_if_present(store, day_key(name, session))
            if body is not None:
                loaded[session.isoformat()] = decode(name, body)
        return loaded

    def reference_before(self, tick: datetime) -> tuple[str | None, dict[str, PriceState]]:
        """The price reference written by the newest tick before `tick` (its key, its state)."""
        store = self.object_store()
        key = latest_key_before(store, "reference", tick)
        if key is None:
            return None, {}
        frame = decode("reference", store.get(key))
        assert isinstance(frame, pd.DataFrame)
        return key, reference_from_frame(frame)


class LocalLakeIOManager(LakeIOManager):
    """The lake in a local folder (MARKETDATA_DATA_DIR)."""

    data_dir: str

    def object_store(self) -> ObjectStore:
        return stores.local_lake(self.data_dir)

    def tick_lock(self) -> TickLock:
        return LocalTickLock(self.data_dir)


class S3LakeIOManager(LakeIOManager):
    """The lake in an S3 bucket (MARKETDATA_BUCKET), bytes through boto3 (the process's one S3
    client, see `aws.client`)."""

    bucket: str

    def object_store(self) -> S3ObjectStore:
        return stores.s3_lake(self.bucket)

    def tick_lock(self) -> TickLock:
        return S3TickLock(self.object_store().client, self.bucket)
