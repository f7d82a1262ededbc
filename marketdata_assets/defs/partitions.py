"""The history's one partitions definition: every NYSE session is a partition (New York days).

Its keys equal `exchange_calendars`' XNYS sessions: weekends and the calendar's holidays are
excluded; early closes are ordinary sessions (their minutes come from the calendar).
"""

import warnings
from datetime import datetime

from dagster import (
    BackfillPolicy,
    BetaWarning,
    DailyPartitionsDefinition,
    TimeWindowPartitionMapping,
)

from marketdata_assets.market.calendar import EXCHANGE_TZ, FIRST_SESSION, holidays, last_known_day

# Sessions one run materialises: fewer runs (each costs ~0.3 s of Dagster), bounded memory.
SESSIONS_PER_RUN = 10

trading_sessions = DailyPartitionsDefinition(
    start_date=FIRST_SESSION.isoformat(),
    timezone=EXCHANGE_TZ,
    exclusions=[
        "0 0 * * 6",
        "0 0 * * 0",
        *(datetime(d.year, d.month, d.day) for d in holidays(FIRST_SESSION, last_known_day())),
    ],
)
history_backfill_policy = BackfillPolicy.multi_run(max_partitions_per_run=SESSIONS_PER_RUN)
# BackfillPolicy on @asset is beta in Dagster 1.13; the CLI's users need not read that each run.
warnings.filterwarnings("ignore", "Parameter `backfill_policy`", BetaWarning)


def sessions_before(sessions: int) -> TimeWindowPartitionMapping:
    """A partition reads itself and the `sessions` before it. Offsets count partitions, so on
    these partitions they count NYSE sessions (weekends and holidays are not partitions); a
    window reaching before the first session holds the sessions there are."""
    with warnings.catch_warnings():  # allow_nonexistent_upstream_partitions is beta in 1.13
        warnings.simplefilter("ignore", BetaWarning)
        return TimeWindowPartitionMapping(
            start_offset=-sessions, allow_nonexistent_upstream_partitions=True
        )
