"""Yahoo's price basis: its chart bars are split-adjusted as of the moment of the request, so a
session fetched before a split and the same session fetched after it come on different bases.

Each session's envelope therefore records the splits known when it was fetched: `basis`, the
answer of one more chart request per symbol, from the session's open to the end of the fetch's
day (`interval=3mo`: few bars, every event), as received. Reading the bars brings them back to
the traded basis: every price multiplied, and every volume divided, by the product of the
ratios of the splits with an ex-date after the session. A re-fetch after a split thus lands
the same traded prices as a fetch before it. An envelope without `basis` (landed before it was
recorded) is read as it is; one whose `basis` answer failed or cannot be read has no bars:
their basis is unknown, and mixing bases is what this prevents. Intraday bars carry no dividend
adjustment, and Yahoo's daily bars none in their `close`: only splits move the basis.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np

from marketdata_assets.providers.bars import BodyReading
from marketdata_assets.providers.chart_events import read_chart_events


def traded_basis(reading: BodyReading, envelope: dict[str, Any], session: date) -> BodyReading:
    """`reading` (the envelope's bars for `session`) on the traded basis."""
    member = envelope.get("basis")
    if member is None or reading.rows is None:
        return reading
    ratio = later_splits(member, envelope.get("symbol"), session)
    if ratio is None:
        return BodyReading(
            error="BasisUnknown: the splits known when the bars were fetched could not be read "
            "(the basis answer failed or is no chart)"
        )
    if ratio == 1.0:
        return reading
    rows = reading.rows
    scaled = replace(
        rows,
        **{name: getattr(rows, name) * ratio for name in ("open", "high", "low", "close")},
        volume=np.rint(rows.volume / ratio),
    )
    note = (
        f"{envelope.get('symbol')} {session.isoformat()}: prices x {ratio:g} and volumes / "
        f"{ratio:g}, back to the traded basis (splits after the session, known when fetched)"
    )
    return BodyReading(scaled, reading.error, [*reading.notes, note])


def later_splits(member: object, symbol: object, session: date) -> float | None:
    """The product of the ratios of the splits after `session` in a `basis` answer; None when
    the answer failed or its splits cannot be read."""
    if not isinstance(member, dict) or member.get("error") is not None:
        return None
    body = member.get("body")
    if not isinstance(body, str):
        return None
    try:
        chart = json.loads(body)["chart"]["result"][0]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None
    if not isinstance(chart, dict):
        return None
    events = chart.get("events")
    splits = {"splits": events["splits"]} if isinstance(events, dict) and "splits" in events else {}
    rows = read_chart_events({"symbol": symbol, "body": _chart_of(splits)}, session)
    ratio = 1.0
    for row in rows:
        if row.problem is not None or row.ex_date is None or not math.isfinite(row.value):
            return None
        if row.value <= 0:
            return None
        if row.ex_date > session:
            ratio *= row.value
    return ratio


def _chart_of(events: dict[str, Any]) -> str:
    """A chart body holding only `events` (what `read_chart_events` reads)."""
    return json.dumps({"chart": {"result": [{"events": events or None}]}})
