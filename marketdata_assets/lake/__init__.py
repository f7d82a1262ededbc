"""The lake: raw, curated, validated and quarantine datasets under one key layout."""

from marketdata_assets.lake.keys import DATASETS, latest_key_before, object_key, tick_prefix
from marketdata_assets.lake.objects import LocalObjectStore, ObjectStore

__all__ = [
    "DATASETS",
    "LocalObjectStore",
    "ObjectStore",
    "latest_key_before",
    "object_key",
    "tick_prefix",
]
