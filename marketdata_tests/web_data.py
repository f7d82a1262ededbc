"""Test data and a real server for the dashboard's tests.

`prepare` fills a local data dir the way a user would: a backfill of stub history (enough
sessions for the symbol page and a forecast), a file backfill of one more symbol whose only row
is markup (quarantined by the bars gate: held in no dataset but `bars_quarantine`) and whose
corporate actions are a split and three rows the actions gate refuses (one of them markup), the
forecasts materialised for its last session, then a few minute ticks of the stub — one with
faults — and a replayed tick whose raw lines carry markup. `prepare_actions_week` backfills the
stub's week of corporate actions (ACTIONS_WEEK) alone. `serve` runs an app under uvicorn on
a free loopback port.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from marketdata_assets.forecasting.windows import ORIGINS, sessions_needed
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.settings import Settings

SYMBOLS = ("AAPL", "MSFT", "NVDA", "KO")
LAST_SESSION = date(2026, 11, 25)
# Ticks on the last session (14:31Z is 09:31 New York): clean, with faults, replayed.
TICKS = tuple(datetime(2026, 11, 25, 14, 31 + n, tzinfo=UTC) for n in range(3))
FAULTY_TICK, HOSTILE_TICK = TICKS[1], TICKS[2]
HOSTILE = "<img src=x onerror=alert(1)>"
# A symbol of the history's quarantine alone: its one row's open is markup (price_invalid).
QUARANTINED_SYMBOL = "ZZZQ"
HOSTILE_BAR = f"{QUARANTINED_SYMBOL},2026-11-25T14:31:00Z,{HOSTILE},1,1,1,100"
# Its corporate actions, landed with that row: a 2:1 split the actions gate keeps, then rows it
# refuses (a zero ratio, a duplicate, a kind that is markup).
ACTIONS_CSV = (
    "symbol,ex_date,kind,value\n"
    f"{QUARANTINED_SYMBOL},2026-11-25,split,2\n"
    f"{QUARANTINED_SYMBOL},2026-11-25,split,0\n"
    f"{QUARANTINED_SYMBOL},2026-11-25,split,3\n"
    f"{QUARANTINED_SYMBOL},2026-11-25,{HOSTILE},1\n"
)
HOSTILE_ACTION = f"{QUARANTINED_SYMBOL},2026-11-25,{HOSTILE},1"


# The stub's seeded actions (providers/stub/actions.py): AAPL 4:1 on 2026-12-02, MSFT's dividend
# on 2026-12-03, NVDA 3:2 and KO's dividend on 2026-12-01.
ACTIONS_WEEK = (date(2026, 11, 30), date(2026, 12, 4))


def first_session(count: int, last: date = LAST_SESSION) -> date:
    """The `count`th NYSE session up to `last`."""
    return sessions_in(last - timedelta(days=2 * count + 14), last)[-count]


def hostile_lines(tick: datetime) -> list[str]:
    """A replay payload: one clean AAPL quote, one with markup as its symbol, one that is markup
    and not JSON at all."""
    quote = {
        "symbol": "AAPL",
        "price": 231.5,
        "volume": 1000,
        "currency": "USD",
        "event_ts": tick.isoformat().replace("+00:00", "Z"),
    }
    return [json.dumps(quote), json.dumps({**quote, "symbol": HOSTILE}), HOSTILE]


def prepare(data_dir: Path) -> dict[str, Any]:
    """Fill `data_dir` (local profile) with history and ticks; what was written, for asserts."""
    from marketdata_assets.execution import backfill
    from marketdata_assets.execution.forecasts import materialise_forecasts
    from marketdata_assets.execution.tick import run_tick
    from marketdata_assets.operations.run_records import RunOrigin

    settings = Settings(data_dir=data_dir, symbols=SYMBOLS, log_level="CRITICAL")
    sessions = sessions_needed(ORIGINS)
    first = first_session(sessions)
    plan = backfill.plan(settings, first, LAST_SESSION, list(SYMBOLS), "stub", None, False)
    history = backfill.run(settings, plan)
    assert not history.failed, history.as_dict()
    bars = data_dir / "hostile_bars.csv"
    bars.write_text(f"symbol,ts,open,high,low,close,volume\n{HOSTILE_BAR}\n")
    actions = data_dir / "hostile_actions.csv"
    actions.write_text(ACTIONS_CSV)
    plan = backfill.plan(
        settings, LAST_SESSION, LAST_SESSION, [QUARANTINED_SYMBOL], "file", str(bars), False,
        str(actions),
    )  # fmt: skip
    refused = backfill.run(settings, plan)
    # The session's landed raw is judged again whole: the stub's bars come out as they were.
    assert refused.quarantined == 1 and refused.reasons == {"price_invalid": 1}, refused.as_dict()
    # As `marketdata forecast --refresh` does: the forecasts the dashboard reads.
    assert materialise_forecasts(settings, LAST_SESSION) is None
    # As `marketdata tick` runs them: each leaves its run record (outcome, duration, checks).
    summaries = [run_tick(settings, TICKS[0], origin=RunOrigin("cli"))]
    faulty = settings.with_overrides(fault_rate=1.0)
    summaries.append(run_tick(faulty, FAULTY_TICK, origin=RunOrigin("cli")))
    source = data_dir / "hostile.jsonl"
    source.write_text("\n".join(hostile_lines(HOSTILE_TICK)) + "\n")
    replay = settings.with_overrides(provider="replay", source=str(source))
    summaries.append(run_tick(replay, HOSTILE_TICK, origin=RunOrigin("cli")))
    return {
        "symbols": SYMBOLS,
        "first_session": first,
        "last_session": LAST_SESSION,
        "sessions": sessions,
        "ticks": TICKS,
        "faulty_tick": FAULTY_TICK,
        "hostile_tick": HOSTILE_TICK,
        "hostile": HOSTILE,
        "hostile_bar": HOSTILE_BAR,
        "hostile_action": HOSTILE_ACTION,
        "summaries": [summary.as_dict() | {"reasons": summary.reasons} for summary in summaries],
    }


def prepare_actions_week(data_dir: Path) -> None:
    """Fill `data_dir` (local profile) with the stub's history of ACTIONS_WEEK, every symbol."""
    from marketdata_assets.execution import backfill

    settings = Settings(data_dir=data_dir, symbols=SYMBOLS, log_level="CRITICAL")
    plan = backfill.plan(settings, *ACTIONS_WEEK, list(SYMBOLS), "stub", None, False)
    summary = backfill.run(settings, plan)
    assert not summary.failed, summary.as_dict()


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port, in a daemon thread; yields its base URL."""
    import uvicorn

    from marketdata_tests.conftest import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
