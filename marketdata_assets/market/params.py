"""The read side's query parameters, checked once for the CLI and the API: a symbol, an
interval, a range of session days, a choice among names, a count. Each check takes the name
the user typed (`--from` on the CLI, `from` on the API) and raises one ConfigError line naming
it and the rule: exit 2 on the CLI, 422 on the API. Nothing heavy is imported here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from marketdata_assets.errors import ConfigError
from marketdata_assets.market.calendar import FIRST_SESSION
from marketdata_assets.market.records import ADJUSTMENTS, INTERVALS
from marketdata_assets.market.symbols import SYMBOL_PATTERN, check_symbol, is_symbol

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def symbol(text: str, name: str) -> str:
    """`text` when it is a symbol as written (an API path holds no lower case)."""
    if not is_symbol(text):
        raise ConfigError(f"{name} {text!r}: not a symbol (rule: {SYMBOL_PATTERN})")
    return text


def typed_symbol(text: str, name: str) -> str:
    """A symbol typed at a prompt: trimmed and upper-cased, then checked."""
    return check_symbol(text.strip().upper(), name)


def session_day(text: str | None, name: str) -> date | None:
    """The session day `text` names (YYYY-MM-DD), or None when it was not given."""
    if text is None:
        return None
    if DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ConfigError(f"{name} {text!r}: must be a date YYYY-MM-DD")


def session_range(
    first: str | None, last: str | None, names: tuple[str, str]
) -> tuple[date | None, date | None]:
    """The first and last session days asked for (each optional), first on or before last,
    each from the first session the history holds (FIRST_SESSION) on: an earlier day holds no
    session, and reading back from it would leave the calendar's dates."""
    start, end = session_day(first, names[0]), session_day(last, names[1])
    for text, day, name in ((first, start, names[0]), (last, end, names[1])):
        if day is not None and day < FIRST_SESSION:
            raise ConfigError(
                f"{name} {text!r}: must be a day from {FIRST_SESSION} (the first session) on"
            )
    if start and end and start > end:
        raise ConfigError(f"{names[0]} {first!r}: must be on or before {names[1]} {last!r}")
    return start, end


def one_of(text: str, choices: Iterable[str], name: str) -> str:
    """`text` when it is one of `choices`."""
    shown = tuple(choices)
    if text not in shown:
        raise ConfigError(f"{name} {text!r}: must be one of {', '.join(shown)}")
    return text


def interval(text: str, name: str) -> str:
    """A bar interval, one of INTERVALS."""
    return one_of(text, INTERVALS, name)


def adjustment(text: str, name: str) -> str:
    """A price adjustment, one of ADJUSTMENTS."""
    return one_of(text, ADJUSTMENTS, name)


def at_least_one(text: str, name: str) -> int:
    """A count typed as text: a whole number of at least 1."""
    if not (text.isdigit() and int(text) >= 1):
        raise ConfigError(f"{name} {text!r}: must be a whole number of at least 1")
    return int(text)
