"""The tick's time budgets, all derived from one source: `time_budget.json` (Terraform reads
the same file for the Lambda's timeout and the schedule's interval).

Primary, in the JSON:
  tick_interval_s   one tick per interval (the schedules fire every minute)
  lambda_timeout_s  the Lambda's timeout: under the interval, so a tick never overlaps the next
  rest_of_tick_s    what a tick needs besides fetching, on a cold process with 500 symbols:
                    the imports, then curate, gate, write, latest prices (measured 14.8-15.9 s
                    against moto's server; warm 4.9-9.9 s; 10 symbols 5.5-7.8 s cold, 1.1-1.5 s
                    warm: README "Time budgets"), before the Lambda overlapped its fetch with
                    the imports: an upper bound now
  margin_s          slack on top of that need

Derived here: the fetch deadline (the Lambda's timeout minus the rest of the tick and the
margin), the gate's future window (one interval) and, inside an invocation, the fetch deadline
from the time the invocation has left. No Dagster here.
"""

from __future__ import annotations

import json
from pathlib import Path

from marketdata_assets.errors import ConfigError

SOURCE = Path(__file__).with_name("time_budget.json")
KEYS = ("tick_interval_s", "lambda_timeout_s", "rest_of_tick_s", "margin_s")


def load(text: str, source: str = SOURCE.name) -> dict[str, int]:
    """The budget's primary figures from JSON text, checked: whole positive seconds, a fetch
    deadline left over inside the Lambda's timeout, and that timeout under the interval."""
    budget = json.loads(text)
    for key in KEYS:
        value = budget.get(key) if isinstance(budget, dict) else None
        if type(value) is not int or value <= 0:
            raise ConfigError(f"{source} {key}={value!r}: must be a whole number of seconds > 0")
    if budget["lambda_timeout_s"] >= budget["tick_interval_s"]:
        raise ConfigError(
            f"{source} lambda_timeout_s={budget['lambda_timeout_s']}: must be under "
            f"tick_interval_s={budget['tick_interval_s']} (a tick never overlaps the next)"
        )
    if budget["rest_of_tick_s"] + budget["margin_s"] >= budget["lambda_timeout_s"]:
        raise ConfigError(
            f"{source} rest_of_tick_s + margin_s = "
            f"{budget['rest_of_tick_s'] + budget['margin_s']}: must be under lambda_timeout_s="
            f"{budget['lambda_timeout_s']} (the fetch needs time too)"
        )
    return {key: budget[key] for key in KEYS}


_BUDGET = load(SOURCE.read_text())

TICK_INTERVAL_S = _BUDGET["tick_interval_s"]
LAMBDA_TIMEOUT_S = _BUDGET["lambda_timeout_s"]
REST_OF_TICK_S = _BUDGET["rest_of_tick_s"]
MARGIN_S = _BUDGET["margin_s"]
# The whole tick's fetching: what the Lambda's timeout leaves after the rest of the tick.
FETCH_DEADLINE_S = float(LAMBDA_TIMEOUT_S - REST_OF_TICK_S - MARGIN_S)
# How far past the current time a tick, or a price's event_ts past its tick, may be: one
# interval (a clock a little ahead is tolerated, a made-up future minute is not).
FUTURE_WINDOW_S = TICK_INTERVAL_S


def lambda_fetch_deadline_s(remaining_ms: int, cap_s: float = FETCH_DEADLINE_S) -> float:
    """The fetch deadline of an invocation with `remaining_ms` left: that time minus the rest
    of the tick and the margin, at most `cap_s`, never negative (no time left: nothing is
    fetched, and every symbol lands as a DeadlineExceeded entry)."""
    return max(0.0, min(cap_s, remaining_ms / 1000 - REST_OF_TICK_S - MARGIN_S))
