"""The daily datasets' session objects as the dashboard reads them: each answer computed from an
object (every symbol's bars at an interval, daily bars, analytics) is kept while the object is
unchanged, and one symbol's rows are sliced out of it (objects are sorted by symbol)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from marketdata_assets.lake import ObjectStore
from marketdata_assets.lake.codecs import typed_table
from marketdata_assets.web.kept import Kept, KeptObjects

# Session objects fetched at once (S3: concurrently): bounds the bytes held undecoded.
BATCH = 8


class SessionObjects:
    """The daily datasets' session objects (`history.query.Sessions`): each answer computed from
    an object is kept while the object's version is unchanged; versions are listed at most every
    LISTING_S seconds."""

    def __init__(self, lake: ObjectStore, listings: Kept, size: int):
        self.lake, self._listings = lake, listings
        self.kept = KeptObjects(size)

    def keys(self, dataset: str) -> frozenset[str]:
        return self._versions(dataset)[0]

    def held(self, dataset: str) -> int:
        """A fingerprint of the objects `dataset` holds and their versions."""
        return self._versions(dataset)[2]

    def answers(
        self,
        keys: Sequence[str],
        kind: Hashable,
        compute: Callable[[str, pa.Table], pa.Table],
        symbol: str | None,
    ) -> list[pa.Table]:
        if not keys:
            return []
        versions = self._versions(keys[0].partition("/")[0])[1]
        asked = [((key, kind), versions.get(key)) for key in keys]
        found = self.kept.peek(asked)
        missing = [key for key, answer in zip(keys, found, strict=True) if answer is None]
        fetched = {}
        for start in range(0, len(missing), BATCH):  # a batch's objects in one get_many
            batch = missing[start : start + BATCH]
            for key, body in zip(batch, self.lake.get_many(batch), strict=True):

                def computed(
                    key: str = key, body: bytes = body
                ) -> tuple[pa.Table, dict[str, tuple[int, int]] | None]:
                    answer = compute(key, typed_table(key.partition("/")[0], key, body))
                    answer = answer.combine_chunks()
                    return answer, _runs(answer.column("symbol"))

                fetched[key] = self.kept.get((key, kind), versions.get(key), computed, _table_bytes)
        return [
            _rows_of(answer if answer is not None else fetched[key], symbol)
            for key, answer in zip(keys, found, strict=True)
        ]

    def _versions(self, dataset: str) -> tuple[frozenset[str], dict[str, str], int]:
        """The keys `dataset` holds, each object's version, and their hash."""

        def listed() -> tuple[frozenset[str], dict[str, str], int]:
            versions = self.lake.versions(f"{dataset}/")
            return frozenset(versions), versions, hash(tuple(versions.items()))

        return self._listings.get(("versions", dataset), listed)


def _rows_of(
    answer: tuple[pa.Table, dict[str, tuple[int, int]] | None], symbol: str | None
) -> pa.Table:
    """The rows of `symbol` (None: every row) of a kept answer (its table and symbols' runs)."""
    table, runs = answer
    if symbol is None:
        return table
    if runs is None:
        return table.filter(pc.field("symbol") == symbol)
    start, length = runs.get(symbol, (0, 0))
    return table.slice(start, length)


def _runs(symbols: pa.ChunkedArray) -> dict[str, tuple[int, int]] | None:
    """Where each symbol's rows start and how many they are, when each symbol's rows are
    together (objects are sorted by symbol); None when they are not."""
    encoded = pc.run_end_encode(symbols.combine_chunks())
    ends = encoded.run_ends.to_pylist()
    values = encoded.values.to_pylist()
    if len(set(values)) != len(values):
        return None
    starts = [0, *ends][: len(ends)]
    return {
        value: (start, end - start) for value, start, end in zip(values, starts, ends, strict=True)
    }


def _table_bytes(decoded: tuple[pa.Table, object]) -> int:
    return decoded[0].nbytes
