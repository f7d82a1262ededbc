"""Shared measuring helpers for the benchmarks: wall time and peak resident memory."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE


def measure(work: Callable[[], T], repeat: int = 1) -> tuple[T, float, int]:
    """Run `work` `repeat` times: (last result, best seconds, peak RSS growth in bytes)."""
    best = float("inf")
    start_rss = _rss()
    peak = start_rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.002):
            peak = max(peak, _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result: T
    try:
        for _ in range(repeat):
            began = time.perf_counter()
            result = work()
            best = min(best, time.perf_counter() - began)
    finally:
        done.set()
        sampler.join()
    return result, best, max(0, max(peak, _rss()) - start_rss)


def machine() -> str:
    import platform

    with open("/proc/cpuinfo") as handle:
        names = [line.split(":", 1)[1].strip() for line in handle if "model name" in line]
    cpu = names[0] if names else platform.processor()
    memory = os.sysconf("SC_PHYS_PAGES") * _PAGE / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"
