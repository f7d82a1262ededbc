"""Thread-safe caches for the dashboard's reads, each bounded in bytes: by age, and decoded
objects by version. Every entry is sized when kept (`footprint`: a table's or frame's buffers,
bytes, and Python containers walked), and the least recently used are dropped beyond the
cache's capacity, so the process holds at most the sum of its caches' capacities in answers."""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def footprint(value: object) -> int:
    """The bytes `value` holds: an Arrow table's buffers, a frame's deep memory usage, and any
    other object's size with its containers' items (each object counted once)."""
    import pandas as pd
    import pyarrow as pa

    seen: set[int] = set()
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, pa.Table | pa.RecordBatch | pa.Array | pa.ChunkedArray):
            total += item.nbytes
        elif isinstance(item, pd.DataFrame | pd.Series):
            total += int(item.memory_usage(deep=True, index=True).sum())
        else:
            total += sys.getsizeof(item)
            if isinstance(item, dict):
                stack += [*item.keys(), *item.values()]
            elif isinstance(item, list | tuple | set | frozenset):
                stack += list(item)
    return total


class Kept:
    """A thread-safe cache: a value is reused for `seconds` after it was computed, and computed
    once however many requests ask for it at the same time; the least recently used values are
    dropped beyond `capacity` bytes in all (`size`: a value's bytes, with its key's)."""

    def __init__(
        self, seconds: float, capacity: int, size: Callable[[object], int] = footprint
    ) -> None:
        self.seconds, self.capacity, self._size = seconds, capacity, size
        self.held = 0  # bytes of the keys and values kept
        self._values: OrderedDict[Hashable, tuple[float, Any, int]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            found, value = self._fresh(key)
            if found:
                return value
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one request computes; the others wait for its value
            with self._lock:
                found, value = self._fresh(key)
            if found:
                return value
            started = time.monotonic()
            try:
                computed = compute()
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            size = self._size(key) + self._size(computed)
            with self._lock:
                replaced = self._values.pop(key, None)
                if replaced is not None:
                    self.held -= replaced[2]
                if size <= self.capacity:  # larger than the bound: served, never kept
                    self._values[key] = (started, computed, size)
                    self.held += size
                while self.held > self.capacity:
                    _, (_, _, dropped) = self._values.popitem(last=False)
                    self.held -= dropped
        return computed

    def _fresh(self, key: Hashable) -> tuple[bool, Any]:
        held = self._values.get(key)
        if held is not None and time.monotonic() - held[0] < self.seconds:
            self._values.move_to_end(key)
            return True, held[1]
        return False, None


class KeptObjects:
    """Decoded lake objects by key, each reused while its version (`ObjectStore.versions`: a
    file's time, size and inode, an S3 ETag) is unchanged; the least recently used dropped
    beyond `capacity` bytes in all. A value is computed once however many requests ask for it
    at the same time."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.held = 0  # bytes of the values kept
        self._values: OrderedDict[Hashable, tuple[Hashable, Any, int]] = OrderedDict()
        self._computing: dict[tuple[Hashable, Hashable], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(
        self, key: Hashable, version: Hashable, compute: Callable[[], T], size: Callable[[T], int]
    ) -> T:
        """The value of `key` at `version`: kept, or `compute()`d and kept (`size` its bytes)."""
        with self._lock:
            found, value = self._current(key, version)
            if found:
                return value
            computing = self._computing.setdefault((key, version), threading.Lock())
        with computing:  # one request computes; the others wait for its value
            with self._lock:
                found, value = self._current(key, version)
            if found:
                return value
            try:
                computed = compute()
            finally:
                with self._lock:
                    self._computing.pop((key, version), None)
            self._keep(key, version, computed, size(computed))
        return computed

    def peek(self, asked: Sequence[tuple[Hashable, Hashable]]) -> list[Any | None]:
        """The value of each (key, version) asked when it is kept (None when not), in one look."""
        with self._lock:
            return [value if found else None for found, value in (self._current(*a) for a in asked)]

    def _current(self, key: Hashable, version: Hashable) -> tuple[bool, Any]:
        held = self._values.get(key)
        if held is None or held[0] != version:
            return False, None
        self._values.move_to_end(key)
        return True, held[1]

    def _keep(self, key: Hashable, version: Hashable, value: object, size: int) -> None:
        with self._lock:
            replaced = self._values.pop(key, None)
            if replaced is not None:
                self.held -= replaced[2]
            if size > self.capacity:  # larger than the bound: served, never kept
                return
            self._values[key] = (version, value, size)
            self.held += size
            while self.held > self.capacity:
                _, (_, _, dropped) = self._values.popitem(last=False)
                self.held -= dropped
