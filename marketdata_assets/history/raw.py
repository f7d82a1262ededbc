"""A session's raw responses (`raw_history`, JSON Lines, one envelope per symbol): which symbols
they deliver, and how a re-fetch merges into them."""

from __future__ import annotations

import json


def _envelope(line: bytes) -> tuple[str | None, str | None]:
    """The symbol and error of one raw_history line (null when the line says none)."""
    try:
        record = json.loads(line)
    except ValueError:
        return None, "unreadable line"
    if not isinstance(record, dict):
        return None, "unreadable line"
    symbol, error = record.get("symbol"), record.get("error")
    return (symbol if isinstance(symbol, str) else None), (str(error) if error else None)


def merge_raw(old: bytes | None, new: bytes) -> bytes:
    """A session's raw payload after a fetch: the old lines of symbols not fetched again, then
    the new lines, sorted by symbol (lines without a symbol stay in their place, old first)."""
    fresh = [(_envelope(line)[0], line) for line in new.splitlines()]
    fetched = {symbol for symbol, _ in fresh}
    kept = (
        []
        if old is None
        else [
            (symbol, line)
            for symbol, line in ((_envelope(line)[0], line) for line in old.splitlines())
            if symbol not in fetched
        ]
    )
    ordered = sorted([*kept, *fresh], key=lambda pair: pair[0] or "")
    return b"".join(line + b"\n" for _, line in ordered)


def delivered(payload: bytes | None) -> set[str]:
    """The symbols a raw payload holds without an error (no need to fetch them again)."""
    if payload is None:
        return set()
    infos = (_envelope(line) for line in payload.splitlines())
    return {symbol for symbol, error in infos if symbol and not error}
