"""The lake: every dataset in one registry, under one key layout, on a folder or a bucket."""

from marketdata_assets.lake.datasets import (
    DATASETS,
    DAY_DATASETS,
    MINUTE_DATASETS,
    Dataset,
    dataset,
    dataset_of_asset,
)
from marketdata_assets.lake.keys import (
    day_key,
    day_keys,
    latest_key_before,
    object_key,
    object_keys,
    tick_prefix,
)
from marketdata_assets.lake.objects import (
    LakeError,
    LocalObjectStore,
    ObjectStore,
    present_key,
    read_if_present,
)

__all__ = [
    "DATASETS",
    "DAY_DATASETS",
    "MINUTE_DATASETS",
    "Dataset",
    "LakeError",
    "LocalObjectStore",
    "ObjectStore",
    "dataset",
    "dataset_of_asset",
    "day_key",
    "day_keys",
    "latest_key_before",
    "object_key",
    "object_keys",
    "present_key",
    "read_if_present",
    "tick_prefix",
]
