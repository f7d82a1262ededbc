"""What the history's two quarantines (`bars_quarantine`, `actions_quarantine`) share: a
quarantine's sessions read as answer rows, and an answer's rows of a symbol and a reason.

No Dagster, no Great Expectations and no DuckDB on this path: the session objects are decoded by
their registered schema (`lake.codecs.typed_table`), so a corrupt object is one line naming its
key.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING

from marketdata_assets.lake import ObjectStore
from marketdata_assets.lake.codecs import typed_table

if TYPE_CHECKING:
    import pyarrow as pa

    from marketdata_assets.history.query import Sessions

Rows = list[dict[str, object]]


def keys_held(lake: ObjectStore, dataset: str, sessions: Sessions | None) -> frozenset[str]:
    """The keys of the objects `dataset` holds, listed by the lake or by `sessions` when given."""
    return frozenset(lake.keys(f"{dataset}/")) if sessions is None else sessions.keys(dataset)


def session_rows(
    lake: ObjectStore,
    dataset: str,
    fields: tuple[str, ...],
    read: dict[date, str],
    sessions: Sessions | None,
    stamp: Callable[[datetime], str],
) -> Rows:
    """The rows of the sessions `read` (each session's key, in the order answered), in source
    order within a session, as rows of `fields` (the session first, then the object's columns):
    a timestamp as `stamp` writes it, a number strict JSON cannot hold as null."""
    keys = list(read.values())
    in_source_order = partial(_in_source_order, fields[1:])
    if sessions is not None:
        tables = sessions.answers(keys, ("in_source_order", fields), in_source_order, None)
    else:
        bodies = lake.get_many(keys)
        tables = [
            in_source_order(key, typed_table(dataset, key, body))
            for key, body in zip(keys, bodies, strict=True)
        ]
    return [
        _row(fields, day, found, stamp)
        for day, table in zip(read, tables, strict=True)
        for found in table.to_pylist()
    ]


def matching(
    answer: tuple[Rows, str, str],
    symbol: str | None,
    reason: str | None,
    limit: int,
    what: str,
) -> tuple[Rows, str]:
    """Of an answer (its rows, what an empty one says, the range read), the rows of `symbol`
    and `reason` (None: any), at most `limit`; and what an empty answer says (`what` names the
    rows: "history bars")."""
    rows, message, read = answer
    found = [
        row
        for row in rows
        if (symbol is None or row["symbol"] == symbol)
        and (reason is None or reason in row["reasons"])  # type: ignore[operator]
    ]
    if found or not rows:
        return found[:limit], message
    return [], f"no {what} quarantined in {read} match these filters"


def _in_source_order(columns: tuple[str, ...], key: str, table: pa.Table) -> pa.Table:
    """A session object's rows in the order of the source (objects are stored by symbol)."""
    del key  # every session's answer is computed alike
    return table.sort_by([("row", "ascending")]).select(list(columns))


def _row(
    fields: tuple[str, ...],
    day: date,
    found: dict[str, object],
    stamp: Callable[[datetime], str],
) -> dict[str, object]:
    row: dict[str, object] = {"session": day.isoformat()}
    for name in fields[1:]:
        value = found[name]
        if isinstance(value, datetime):
            value = stamp(value)
        elif isinstance(value, float) and not math.isfinite(value):
            value = None  # strict JSON holds no NaN: an unreadable number is null, its text stays
        elif name == "reasons":
            value = list(value or [])  # type: ignore[call-overload]
        row[name] = value
    return row
