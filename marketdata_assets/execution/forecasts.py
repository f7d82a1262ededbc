"""`marketdata forecast --refresh`: forecast_job (forecast_skill, then price_forecasts) for one
session, in this process, recorded in the instance it is given (DAGSTER_HOME's, as a backfill's)."""

from __future__ import annotations

from datetime import date

from dagster import DagsterInstance

from marketdata_assets.execution.tick import failure_line, instance_or_ephemeral
from marketdata_assets.settings import Settings


def materialise_forecasts(
    settings: Settings, session: date, instance: DagsterInstance | None = None
) -> str | None:
    """Materialise the forecasts group's partition `session`; None when the run succeeded,
    else the one line naming what stopped it."""
    from marketdata_assets.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("forecast_job")
    with instance_or_ephemeral(instance) as active:
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": settings.log_level}}}},
            instance=active,
            partition_key=session.isoformat(),
            raise_on_error=False,
        )
    return None if result.success else failure_line(result)
