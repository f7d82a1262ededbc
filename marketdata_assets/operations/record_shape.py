"""What a run record must hold to be read: the fields `marketdata status`, the dashboard's
ticks and `production_ticks_sensor` use, each of the type its writer (`run_records.new_record`)
gives it. `problem` is total: any JSON value is a record (None) or one line saying why not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

OUTCOMES = ("succeeded", "failed", "skipped")
SOURCES = ("lambda", "cli")
SEVERITIES = ("ERROR", "WARN")
# Deeper than this is no record's (the writer's deepest: a check's metadata's dict, 4 levels).
MAX_DEPTH = 32
_INT64 = 2**63 - 1
_ASSET = re.compile(r"[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*")
_NAME = re.compile(r"[A-Za-z0-9_]+")
_OPERATION = re.compile(r"[a-z0-9-]{1,64}\.[A-Za-z0-9]{1,64}")


class _Bad(Exception):
    """Why a value is no run record (its one line)."""


def problem(value: object, counts: tuple[str, ...], tick: str | None) -> str | None:
    """None when `value` is a run record (of `tick`, the minute its key names, when known),
    else why not, in one line."""
    try:
        _record(value, counts, tick)
    except _Bad as bad:
        return str(bad)
    return None


def _record(value: object, counts: tuple[str, ...], tick: str | None) -> None:
    if not isinstance(value, dict):
        raise _Bad(f"not a JSON object but {_kind(value)}")
    _text(value, 0)
    found = _field(value, "tick", str)
    if not _is_minute(found):
        raise _Bad(f"tick {_shown(found)}: not a minute YYYY-MM-DDTHH:MMZ")
    if tick is not None and found != tick:
        raise _Bad(f"tick {found}: its key is the record of {tick}")
    _choice(value, "outcome", OUTCOMES)
    _choice(value, "source", SOURCES)
    for name in ("request_id", "cause", "reason"):
        _optional(value, name, str)
    for name in ("duration_ms", "bytes_stored", *counts):
        _count(value, name)
    requests = value.get("aws_requests")
    if requests is not None:  # the aws profile's requests per "service.Operation"
        for operation in _field(value, "aws_requests", dict):
            if not _OPERATION.fullmatch(operation):
                raise _Bad(f"aws_requests {_shown(operation)}: not a service.Operation name")
            _count(requests, operation)
    for asset in _list(value, "assets"):
        _asset(asset)
    for check in _list(value, "checks"):
        _check(check)


def _asset(asset: object) -> None:
    if not isinstance(asset, dict):
        raise _Bad(f"an asset entry is {_kind(asset)}, not an object")
    _pattern(asset, "asset", _ASSET)
    _optional(asset, "key", str)
    for name, item in _field(asset, "metadata", dict).items():
        if not isinstance(item, bool | int | float | str) or _too_big(item):
            raise _Bad(f"asset metadata {name!r} is {_kind(item)}, not a number or text")


def _check(check: object) -> None:
    if not isinstance(check, dict):
        raise _Bad(f"a check entry is {_kind(check)}, not an object")
    _pattern(check, "asset", _ASSET)
    _pattern(check, "check", _NAME)
    if _field(check, "evaluated", bool):  # what the sensor reports of an evaluated check
        _field(check, "passed", bool)
        _choice(check, "severity", SEVERITIES)
        _field(check, "metadata", dict)
    else:
        _optional(check, "metadata", dict)


def _field(record: Mapping[str, Any], name: str, kind: type) -> Any:
    if name not in record:
        raise _Bad(f"missing {name}")
    value = record[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _Bad(f"{name} is {_kind(value)}, not {kind.__name__}")
    return value


def _optional(record: Mapping[str, Any], name: str, kind: type) -> None:
    if record.get(name) is not None:
        _field(record, name, kind)


def _count(record: Mapping[str, Any], name: str) -> None:
    value = record.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _INT64:
        raise _Bad(f"{name} {_shown(value)}: not a count (a whole number from 0)")


def _choice(record: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> None:
    value = record.get(name)
    if value not in choices or not isinstance(value, str):
        raise _Bad(f"{name} {_shown(value)}: must be one of {', '.join(choices)}")


def _pattern(record: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> None:
    value = _field(record, name, str)
    if len(value) > 200 or not pattern.fullmatch(value):
        raise _Bad(f"{name} {_shown(value)}: not a Dagster name")


def _list(record: Mapping[str, Any], name: str) -> list[Any]:
    found: list[Any] = _field(record, name, list)
    return found


def _text(value: object, depth: int) -> None:
    """Every string of `value` (keys included) is UTF-8 (no lone surrogate) and it nests at
    most MAX_DEPTH deep."""
    if depth > MAX_DEPTH:
        raise _Bad(f"nested deeper than {MAX_DEPTH}")
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            raise _Bad(f"text {_shown(value)} is not UTF-8 (a lone surrogate)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _text(key, depth)
            _text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _text(item, depth + 1)


def _too_big(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > _INT64


def _is_minute(text: str) -> bool:
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%MZ")
    except ValueError:
        return False
    return parsed.strftime("%Y-%m-%dT%H:%MZ") == text


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _shown(value: object) -> str:
    text = repr(value).encode("ascii", "backslashreplace").decode()
    return text if len(text) <= 40 else f"{text[:37]}..."
