"""IO managers for the lake: the same keys and codecs over a local folder or an S3 bucket."""

from __future__ import annotations

from dagster import ConfigurableIOManager, InputContext, OutputContext
from dagster_aws.s3 import S3Resource
from pydantic import PrivateAttr

from marketdata_assets.defs.tick import tick_of_step
from marketdata_assets.lake import LocalObjectStore, ObjectStore, object_key
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.lake.s3 import S3ObjectStore

# Asset -> lake dataset.
DATASET_OF_ASSET = {
    "raw_ticks": "raw",
    "curated_ticks": "curated",
    "validated_ticks": "validated",
    "quarantined_ticks": "quarantine",
}


class LakeIOManager(ConfigurableIOManager):
    """Stores each tick's dataset at <dataset>/date=YYYY-MM-DD/minute=HHMM/<file>."""

    def object_store(self) -> ObjectStore:
        raise NotImplementedError

    def _key(self, context: InputContext | OutputContext) -> str:
        dataset = DATASET_OF_ASSET[context.asset_key.path[-1]]
        return object_key(dataset, tick_of_step(context.step_context))

    def handle_output(self, context: OutputContext, obj: object) -> None:
        key = self._key(context)
        body = encode(DATASET_OF_ASSET[context.asset_key.path[-1]], obj)
        location = self.object_store().put(key, body)
        context.add_output_metadata({"key": key, "location": location, "bytes": len(body)})

    def load_input(self, context: InputContext) -> object:
        key = self._key(context)
        return decode(DATASET_OF_ASSET[context.asset_key.path[-1]], self.object_store().get(key))


class LocalLakeIOManager(LakeIOManager):
    """The lake in a local folder (MARKETDATA_DATA_DIR)."""

    data_dir: str

    def object_store(self) -> ObjectStore:
        return LocalObjectStore(self.data_dir)


class S3LakeIOManager(LakeIOManager):
    """The lake in an S3 bucket (MARKETDATA_BUCKET), bytes through the dagster-aws S3Resource."""

    bucket: str
    s3: S3Resource
    _store: S3ObjectStore | None = PrivateAttr(default=None)

    def object_store(self) -> ObjectStore:
        # One client per run: building a boto3 client costs about 0.25 s.
        if self._store is None:
            self._store = S3ObjectStore(self.s3.get_client(), self.bucket)
        return self._store
