"""Configuration, read from the environment in exactly one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from marketdata_assets.errors import ConfigError
from marketdata_assets.symbols import check_symbol

DEFAULT_SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM", "V", "KO")
PROFILES = ("local", "aws")


def parse_symbols(text: str, source: str = "MARKETDATA_SYMBOLS") -> tuple[str, ...]:
    """Split a comma-separated symbol list, upper-case it and check every symbol's shape."""
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in text.split(",") if s.strip()))
    if not symbols:
        raise ConfigError(f"{source}: the symbol list is empty; give at least one symbol")
    for symbol in symbols:
        check_symbol(symbol, source)
    return symbols


@dataclass(frozen=True)
class Settings:
    """Everything the platform reads from its environment."""

    profile: str = "local"
    data_dir: Path = Path("data")
    provider: str = "stub"
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    fault_rate: float = 0.0
    seed: int = 7
    source: str | None = None
    jump_threshold: float = 0.5
    quarantine_warn_share: float = 0.5
    log_level: str = "WARNING"  # Dagster's console log level for in-process runs
    bucket: str | None = None  # aws profile: the lake bucket
    table: str | None = None  # aws profile: the latest-price table
    always_open: bool = False  # Lambda: tick even when NYSE is closed
    alphavantage_daily_budget: int = 25  # requests a day (the free tier's quota)
    budget_table: str | None = None  # aws profile: the request-budget table
    alphavantage_key_param: str | None = None  # aws profile: SSM SecureString holding the key

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "latest_prices.sqlite"

    @property
    def budget_path(self) -> Path:
        return self.data_dir / "request_budget.json"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (None leaves a field as it is)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        profile = env.get("MARKETDATA_PROFILE", "local")
        if profile not in PROFILES:
            raise ConfigError(
                f"MARKETDATA_PROFILE={profile!r}: must be one of {', '.join(PROFILES)}"
            )
        return cls(
            profile=profile,
            data_dir=Path(env.get("MARKETDATA_DATA_DIR", "data")),
            provider=env.get("MARKETDATA_PROVIDER", "stub"),
            symbols=parse_symbols(env["MARKETDATA_SYMBOLS"])
            if env.get("MARKETDATA_SYMBOLS")
            else DEFAULT_SYMBOLS,
            fault_rate=_float(env, "MARKETDATA_FAULT_RATE", 0.0, low=0.0, high=1.0),
            seed=int(_float(env, "MARKETDATA_SEED", 7, low=0, high=2**32)),
            source=env.get("MARKETDATA_SOURCE") or None,
            jump_threshold=_float(env, "MARKETDATA_JUMP_THRESHOLD", 0.5, low=0.0, high=100.0),
            quarantine_warn_share=_float(
                env, "MARKETDATA_QUARANTINE_WARN_SHARE", 0.5, low=0.0, high=1.0
            ),
            log_level=env.get("MARKETDATA_LOG_LEVEL", "WARNING").upper(),
            bucket=_required(env, "MARKETDATA_BUCKET", profile),
            table=_required(env, "MARKETDATA_TABLE", profile),
            always_open=env.get("MARKETDATA_ALWAYS_OPEN", "") in ("1", "true", "yes"),
            alphavantage_daily_budget=_whole(
                env, "MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET", 25, low=1, high=1_000_000
            ),
            budget_table=env.get("MARKETDATA_BUDGET_TABLE") or None,
            # The SSM key is an AWS deployment's; locally the key comes from the environment.
            alphavantage_key_param=(env.get("ALPHAVANTAGE_API_KEY_PARAM") or None)
            if profile == "aws"
            else None,
        )


def _required(env: Mapping[str, str], name: str, profile: str) -> str | None:
    """A setting the aws profile cannot run without."""
    value = env.get(name) or None
    if profile == "aws" and value is None:
        raise ConfigError(f"{name}: must be set when MARKETDATA_PROFILE=aws")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    value = _float(env, name, default, low=low, high=high)
    if value != int(value):
        raise ConfigError(f"{name}={env[name]!r}: must be a whole number")
    return int(value)


def _float(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    text = env.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r}: must be a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={text!r}: must be between {low:g} and {high:g}")
    return value
