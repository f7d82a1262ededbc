"""IO managers for the lake: they load a step's inputs and store its outputs, nothing else.

Daily datasets are keyed by their partitions (`<dataset>/date=YYYY-MM-DD/<file>`, the keys
from the context); minute datasets by the run's tick (`<dataset>/date=…/minute=HHMM/<file>`,
the minute from the `tick_run` resource).
"""

from datetime import date

from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency

from marketdata_assets.defs.lake import LakeResource
from marketdata_assets.defs.tick import TickRun
from marketdata_assets.lake import dataset_of_asset, day_key, object_key
from marketdata_assets.lake.codecs import decode, encode


class LakeIOManager(ConfigurableIOManager):
    """One object per NYSE session. A daily asset's value is {session key: value}, one entry
    per partition of the run; an input loads the partitions Dagster maps to it (a window of
    earlier sessions included) that the lake holds."""

    lake: ResourceDependency[LakeResource]

    def handle_output(self, context: OutputContext, obj: object) -> None:
        name = dataset_of_asset(context.asset_key.path[-1]).name
        if not isinstance(obj, dict) or set(obj) != set(context.asset_partition_keys):
            raise TypeError(
                f"{name}: a daily asset returns {{session: value}} for exactly its partitions "
                f"{context.asset_partition_keys}"
            )
        store, written = self.lake.store(), 0
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

    def load_input(self, context: InputContext) -> object:
        name = dataset_of_asset(context.asset_key.path[-1]).name
        return self.lake.load_days(name, map(date.fromisoformat, context.asset_partition_keys))


class TickIOManager(ConfigurableIOManager):
    """One object per tick: the run holds its tick's lock from its first write to its end."""

    lake: ResourceDependency[LakeResource]
    tick_run: ResourceDependency[TickRun]

    def _key(self, context: InputContext | OutputContext) -> str:
        return object_key(dataset_of_asset(context.asset_key.path[-1]).name, self.tick_run.tick)

    def handle_output(self, context: OutputContext, obj: object) -> None:
        self.tick_run.hold()
        key = self._key(context)
        body = encode(dataset_of_asset(context.asset_key.path[-1]).name, obj)
        location = self.lake.store().put(key, body)
        context.add_output_metadata({"key": key, "location": location, "bytes": len(body)})

    def load_input(self, context: InputContext) -> object:
        name = dataset_of_asset(context.asset_key.path[-1]).name
        key = self._key(context)  # written by this run: under the dataset's current name
        return decode(name, self.lake.store().get(key), key)
