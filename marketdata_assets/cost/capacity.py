"""The latest-price table's capacity as `infra/storage.tf` declares it: on demand (a request
unit per write), or provisioned (`latest_capacity = "provisioned"`): `latest_session_writes`
write units from 09:25 to 16:05 New York time on weekdays, 1 outside, and 1 read unit.
"""

from __future__ import annotations

from marketdata_assets.cost import schedule
from marketdata_assets.cost.infra import Infra

SCALED_HOURS_A_DAY = 6 + 40 / 60  # the scheduled actions' 09:25 to 16:05
HOURS_PER_MONTH = 365 * 24 / 12


def mode(infra: Infra) -> str:
    """on_demand or provisioned: the default of var.latest_capacity."""
    return infra.string(infra.default("latest_capacity"), f"{infra.folder}/variables.tf")


def provisioned_unit_hours(infra: Infra) -> tuple[float, float]:
    """(write unit-hours, read unit-hours) a month of the provisioned table."""
    units = infra.number(infra.default("latest_session_writes"), f"{infra.folder}/variables.tf")
    scaled = schedule.weekdays_per_month() * SCALED_HOURS_A_DAY
    return units * scaled + (HOURS_PER_MONTH - scaled), HOURS_PER_MONTH
