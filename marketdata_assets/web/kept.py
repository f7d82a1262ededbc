"""A small thread-safe cache for the dashboard's reads."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Kept:
    """A small thread-safe cache: a value is reused for `seconds` after it was computed, and
    computed once however many requests ask for it at the same time."""

    def __init__(self, seconds: float, size: int = 1024):
        self.seconds, self.size = seconds, size
        self._values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
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
            with self._lock:
                self._values[key] = (started, computed)
                self._values.move_to_end(key)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return computed

    def _fresh(self, key: Hashable) -> tuple[bool, Any]:
        held = self._values.get(key)
        if held is not None and time.monotonic() - held[0] < self.seconds:
            return True, held[1]
        return False, None
