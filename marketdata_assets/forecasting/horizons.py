"""The forecast horizons, defined once: importing this module loads nothing heavy, so the CLI
and the API check a horizon before pandas or a model library is touched."""

from __future__ import annotations

from marketdata_assets.errors import ConfigError

# Minutes ahead of each horizon; "1d" (0) is the next session's close.
HORIZONS: dict[str, int] = {"1m": 1, "5m": 5, "15m": 15, "1d": 0}


def horizon_words(horizon: str) -> str:
    """The horizon in words: "5 minutes", "1 minute", "the next session's close"."""
    steps = HORIZONS[horizon]
    if not steps:
        return "the next session's close"
    return f"{steps} minute{'s' if steps > 1 else ''}"


def check_horizon(horizon: str, name: str = "horizon") -> str:
    """`horizon` when it is one of HORIZONS, else a ConfigError naming `name` and the choices."""
    if horizon not in HORIZONS:
        raise ConfigError(f"{name} {horizon!r}: must be one of {', '.join(HORIZONS)}")
    return horizon
