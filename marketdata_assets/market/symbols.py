"""The one rule for what a ticker symbol may look like."""

from __future__ import annotations

import re

from marketdata_assets.errors import ConfigError

SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9.\-]{0,14}$"
_SYMBOL = re.compile(SYMBOL_PATTERN)


def is_symbol(text: object) -> bool:
    """True when `text` is a string shaped like a symbol (so it can never form a path)."""
    return isinstance(text, str) and _SYMBOL.fullmatch(text) is not None


def check_symbol(symbol: str, source: str) -> str:
    if not is_symbol(symbol):
        raise ConfigError(f"{source}: {symbol!r} is not a symbol (rule: {SYMBOL_PATTERN})")
    return symbol
