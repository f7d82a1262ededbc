"""Lineage that tells the truth: what Dagster knows an asset read is what it read.

session_analytics reads 20 earlier sessions of daily_bars, declared as a partition mapping.
Re-materialising an old daily_bars session must leave, by Dagster's own account, every later
session_analytics partition whose window holds it out of date, and no other.

Dagster's public API for "which partitions does an upstream change leave out of date" is
declarative automation evaluated in-process (`evaluate_automation_conditions`): the condition
"a dependency was updated since this partition was last materialised" is evaluated over the
instance's materialisations through the asset graph's partition mappings. (The UI's
"stale" badge comes from `CachingStaleStatusResolver`, which is not public.)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from dagster import AssetKey, AutomationCondition, DagsterInstance, Definitions

from marketdata_assets.definitions import build_definitions
from marketdata_assets.execution import backfill
from marketdata_assets.market.calendar import sessions_in
from marketdata_assets.settings import Settings

pytestmark = pytest.mark.graph

ANALYTICS = AssetKey("session_analytics")
# 26 sessions of November and December 2025 (Thanksgiving and weekends are not sessions).
FIRST, LAST = date(2025, 11, 3), date(2025, 12, 8)
OUT_OF_DATE = AutomationCondition.any_deps_updated().since(AutomationCondition.newly_updated())


def _watching(defs: Definitions) -> Definitions:
    """The definitions with session_analytics asking "has a dependency changed since I ran"."""
    return defs.map_resolved_asset_specs(
        func=lambda spec: spec.replace_attributes(automation_condition=OUT_OF_DATE),
        selection=[ANALYTICS],
    )


def test_rematerialising_an_old_daily_bars_session_leaves_the_analytics_that_read_it_stale(
    tmp_path: Path,
) -> None:
    from dagster import evaluate_automation_conditions

    settings = Settings(data_dir=tmp_path / "data", symbols=("AAPL",))
    sessions = sessions_in(FIRST, LAST)
    assert len(sessions) == 25
    defs = build_definitions(settings)
    watched = _watching(defs)
    with DagsterInstance.ephemeral() as instance:
        planned = backfill.plan(settings, FIRST, LAST, None, "stub", None, False)
        assert not backfill.run(settings, planned, instance=instance).failed
        settled = evaluate_automation_conditions(defs=watched, instance=instance)
        assert settled.get_requested_partitions(ANALYTICS) == set()  # all up to date

        old = sessions[1].isoformat()  # 2025-11-04
        rerun = defs.resolve_job_def("history_job").execute_in_process(
            instance=instance, partition_key=old, asset_selection=[AssetKey("daily_bars")]
        )
        assert rerun.success
        after = evaluate_automation_conditions(
            defs=watched, instance=instance, cursor=settled.cursor
        )

    # the partition itself and the 20 sessions after it, counted in sessions: 11-04 .. 12-03
    # (Thanksgiving skipped); 12-04 and later read from 11-05 on, 11-03 from before.
    expected = {s.isoformat() for s in sessions[1:22]}
    assert after.get_requested_partitions(ANALYTICS) == expected
    assert max(expected) == "2025-12-03" and "2025-11-27" not in expected
