from pathlib import Path

import pandas as pd
import pytest

from marketdata_assets.lake import LakeError, LocalObjectStore, object_key
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.tick.curation import curate
from marketdata_tests.conftest import TICK, good, line

pytestmark = pytest.mark.domain


def test_keys_carry_dataset_date_and_minute_hive_style(tick) -> None:
    assert object_key("curated", tick) == "curated/date=2026-11-25/minute=1431/ticks.parquet"
    assert object_key("raw", tick) == "raw/date=2026-11-25/minute=1431/ticks.jsonl.gz"


def test_unknown_dataset_is_refused(tick) -> None:
    with pytest.raises(ValueError, match="dataset 'secrets': must be one of raw, curated"):
        object_key("secrets", tick)


def test_put_replaces_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("raw/a/ticks.jsonl", b"one")
    store.put("raw/a/ticks.jsonl", b"two")
    assert store.get("raw/a/ticks.jsonl") == b"two"
    assert [p.name for p in (tmp_path / "raw/a").iterdir()] == ["ticks.jsonl"]
    assert store.keys("raw/") == ["raw/a/ticks.jsonl"]


def test_failed_write_keeps_the_previous_object_whole(tmp_path: Path, monkeypatch) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("raw/a/ticks.jsonl", b"complete")

    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(LakeError, match=r"^local write .*/raw/a/ticks.jsonl failed: disk full$"):
        store.put("raw/a/ticks.jsonl", b"half")
    assert store.get("raw/a/ticks.jsonl") == b"complete"
    assert [p.name for p in (tmp_path / "raw/a").iterdir()] == ["ticks.jsonl"]


@pytest.mark.parametrize("key", ["../escape", "raw/../../escape", "/etc/passwd"])
def test_keys_cannot_leave_the_lake(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="must stay inside"):
        LocalObjectStore(tmp_path / "lake").put(key, b"x")


def test_raw_bytes_read_back_untouched() -> None:
    payload = b'{"a": 1}\r\nnot json \xff\n'
    assert decode("raw", encode("raw", payload)) == payload
    assert decode("raw", payload, "raw/date=2026-11-25/minute=1431/ticks.jsonl") == payload


def test_tables_round_trip_through_parquet_with_their_dtypes() -> None:
    frame = curate((line(**good()) + "\nnope\n").encode(), TICK)
    back = decode("curated", encode("curated", frame))
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(back, frame)
