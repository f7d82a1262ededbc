"""The price table (`prices.json`: us-east-1 list prices, each with its date and source) and
a bill's items: one thing AWS charges for, a month's quantity, its unit price, month 1 and 12.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PRICES = Path(__file__).with_name("prices.json")


@cache
def prices(path: Path = PRICES) -> dict[str, dict[str, Any]]:
    """The price table's entries: name -> {usd, unit, date, source, free_tier}."""
    table: dict[str, dict[str, Any]] = json.loads(path.read_text())["prices"]
    return table


def price_date(path: Path = PRICES) -> str:
    """The table's date: its newest entry's."""
    return max(entry["date"] for entry in prices(path).values())


@dataclass(frozen=True)
class Item:
    item: str
    quantity: float  # a month's amount (month 12's for what accumulates)
    unit_usd: float
    month_1_usd: float
    month_12_usd: float
    free_quantity: float = 0.0  # what the always-free tier covers a month (shown apart)

    @property
    def free_usd(self) -> float:
        return min(self.quantity, self.free_quantity) * self.unit_usd

    def rounded(self) -> Item:
        return Item(
            self.item,
            round(self.quantity, 4),
            self.unit_usd,
            round(self.month_1_usd, 4),
            round(self.month_12_usd, 4),
            self.free_quantity,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "quantity": self.quantity,
            "unit_usd": self.unit_usd,
            "month_1_usd": self.month_1_usd,
            "month_12_usd": self.month_12_usd,
        }


# The always-free tiers (prices.json's free_tier), in each price's unit.
ALWAYS_FREE = {
    "lambda_arm64_gb_second": 400_000,
    "lambda_x86_gb_second": 400_000,
    "lambda_request": 1_000_000,
    "scheduler_invocation": 14_000_000,
    "cloudwatch_logs_ingested_gb": 5,
    "cloudwatch_metric_month": 10,
    "cloudwatch_alarm_metric_month": 10,
    "xray_trace_recorded": 100_000,
}


def flat(name: str, quantity: float, price: str) -> Item:
    unit = prices()[price]["usd"]
    return Item(name, quantity, unit, quantity * unit, quantity * unit, ALWAYS_FREE.get(price, 0))


def growing(name: str, month_1: float, month_12: float, price: str) -> Item:
    unit = prices()[price]["usd"]
    return Item(name, month_12, unit, month_1 * unit, month_12 * unit)
