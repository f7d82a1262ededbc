"""The one parser of the corporate actions a raw_history payload carries.

Actions are landed raw with the bars they came with: a chart body's `events` (Yahoo's, the
stub's), or an envelope's `actions` text (a file's `--actions` rows of that session). Each
vendor's spec registers the reader of its envelopes (`History.actions`) and the text of one of
their rows (`History.action_text`). `parse_actions` is total: an envelope whose events cannot be
read at all is one `unparseable` candidate (item WHOLE), never an error; an envelope that is no
envelope, or a body that is no chart, carries no action (the bars gate quarantines it).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from marketdata_assets.lake.schemas import ACTION_CANDIDATES, pandas_dtypes
from marketdata_assets.providers import registry
from marketdata_assets.providers.action_rows import ActionRow, unreadable
from marketdata_assets.providers.history import read_envelope

CANDIDATE_SCHEMA: dict[str, str] = {
    **{n: t for n, t in pandas_dtypes(ACTION_CANDIDATES).items() if n != "raw"},
    "line": "int64",
    "item": "int64",
}


def parse_actions(payload: bytes, session: date) -> pd.DataFrame:
    """The action candidates (CANDIDATE_SCHEMA) of `session`'s raw_history payload. Total."""
    found: list[tuple[int, str, ActionRow]] = []
    for number, line in enumerate(_lines(payload)):
        envelope = read_envelope(line) if line.strip() else None
        if envelope is None or envelope.get("error") is not None:
            continue
        history = registry.history_of(envelope["source"])
        if history is None or history.actions is None:
            continue
        try:
            rows = history.actions(envelope, session)
        except Exception:  # totality: an unforeseen shape costs its own row, never the session
            rows = [unreadable(envelope["symbol"])]
        found += [(number, envelope["source"], row) for row in rows]
    frame = pd.DataFrame(
        {
            "row": np.arange(len(found), dtype=np.int64),
            "symbol": [row.symbol for _, _, row in found],
            "ex_date": pd.Series(
                [pd.Timestamp(row.ex_date) if row.ex_date else pd.NaT for _, _, row in found],
                dtype="datetime64[us]",
            ),
            "kind": [row.kind for _, _, row in found],
            "value": np.array([row.value for _, _, row in found], dtype=np.float64),
            "currency": [row.currency for _, _, row in found],
            "source": [source for _, source, _ in found],
            "problem": [row.problem for _, _, row in found],
            "line": np.array([number for number, _, _ in found], dtype=np.int64),
            "item": np.array([row.item for _, _, row in found], dtype=np.int64),
        }
    )
    return frame.astype(CANDIDATE_SCHEMA)


def action_text(payload: bytes, line: int, item: int) -> str:
    """The original text of one action row of `payload` (its line `line`, row `item`)."""
    lines = _lines(payload)
    if not 0 <= line < len(lines):
        raise IndexError(f"raw_history line {line}: the payload has {len(lines)} lines")
    envelope = read_envelope(lines[line])
    history = registry.history_of(envelope["source"]) if envelope is not None else None
    if envelope is None or history is None or history.action_text is None:
        return lines[line].decode("utf-8", "replace")
    return history.action_text(envelope, item)


def _lines(payload: bytes) -> list[bytes]:
    lines = payload.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines
