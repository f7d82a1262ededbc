"""`marketdata cost`: the monthly AWS bill of a deployment, from measured ticks.

`--json` prints `{"symbols", "schedule", "ticks_per_month", "per_tick", "monthly_usd":
{"month_1", "month_12"}, "items": [{"item", "quantity", "unit_usd", "month_1_usd",
"month_12_usd"}]}`; with `--compare` it adds `"seed"`, the seed's design priced from the same
measured ticks in the same shape (its own `symbols`, `schedule`, `ticks_per_month`,
`per_tick`, `monthly_usd` and `items`), and `"seed_over_ours": {"month_1", "month_12"}`, how
many times our bill the seed's is.
"""

from __future__ import annotations

import argparse
import json

from marketdata_assets.cli.common import Commands, command
from marketdata_assets.errors import ConfigError
from marketdata_assets.market.params import one_of
from marketdata_assets.providers import registry

SCHEDULES = ("session", "24x7")  # cost.schedule.SCHEDULES, without importing it for --help
MAX_SYMBOLS = 10_000
MEMORY_MB = (512, 10240)  # what infra/variables.tf accepts for lambda_memory_mb
MEASURED_TICKS = 2  # after one warm-up (the cold start), spread over a session


def register(commands: Commands) -> None:
    """Add the `cost` command."""
    cost = command(
        commands,
        "cost",
        "price a month of ticks on AWS from ticks measured on an in-process moto",
        "marketdata cost --symbols 50 --compare",
    )
    cost.add_argument("--symbols", default="500", help="how many symbols (default: 500)")
    measurable = registry.measurable_providers()
    cost.add_argument(
        "--provider",
        default=measurable[0],
        help=f"{registry.choices(measurable)}, answered offline (default: {measurable[0]})",
    )
    cost.add_argument(
        "--schedule",
        default=SCHEDULES[0],
        help="session (NYSE session minutes, the default) or 24x7 (every minute)",
    )
    cost.add_argument(
        "--memory-mb", default="1024", help="the Lambda's memory in MB (default: 1024)"
    )
    cost.add_argument(
        "--compare", action="store_true", help="add the seed's design (24x7, x86, no levers)"
    )
    cost.add_argument("--json", action="store_true", help="print one JSON object")
    cost.set_defaults(handler=_cost)


def _whole(text: str, name: str, low: int, high: int) -> int:
    if not (text.isdigit() and low <= int(text) <= high):
        raise ConfigError(f"{name} {text!r}: must be a whole number from {low} to {high}")
    return int(text)


def _cost(args: argparse.Namespace) -> int:
    symbols = _whole(args.symbols, "--symbols", 1, MAX_SYMBOLS)
    provider = one_of(args.provider, registry.measurable_providers(), "--provider")
    schedule = one_of(args.schedule, SCHEDULES, "--schedule")
    memory = _whole(args.memory_mb, "--memory-mb", *MEMORY_MB)

    from marketdata_assets.cost.bill import Design, bill
    from marketdata_assets.cost.infra import Infra
    from marketdata_assets.cost.measure import measure
    from marketdata_assets.cost.pricing import price_date

    infra = Infra()
    measured = measure(symbols, provider, MEASURED_TICKS)
    ours = bill(measured, Design(schedule, memory), infra)
    shown = ours.as_dict(symbols)
    seed = bill(measured, Design("24x7", memory, seed=True), infra) if args.compare else None
    if seed is not None:
        shown["seed"] = seed.as_dict(symbols)
        shown["seed_over_ours"] = {
            month: round(shown["seed"]["monthly_usd"][month] / total, 2) if total else None  # type: ignore[index]
            for month, total in shown["monthly_usd"].items()  # type: ignore[attr-defined]
        }
    if args.json:
        print(json.dumps(shown))
        return 0
    print(
        f"{symbols} symbols from {provider}, {schedule} schedule, {memory} MB arm64: "
        f"{shown['ticks_per_month']:,} invocations a month; us-east-1 list prices of "
        f"{price_date()}, no free tier"
    )
    width = max(len(item.item) for item in ours.items)
    header = f"{'item':<{width}}  {'month 1':>9}  {'month 12':>9}"
    print(header + (f"  {'seed m12':>9}" if seed else ""))
    seeded = {item.item.split(" (")[0]: item for item in seed.items} if seed else {}
    for item in ours.items:
        line = f"{item.item:<{width}}  {item.month_1_usd:>9.4f}  {item.month_12_usd:>9.4f}"
        twin = seeded.get(item.item.split(" (")[0])
        print(line + (f"  {twin.month_12_usd:>9.4f}" if twin else ""))
    totals = shown["monthly_usd"]
    total = (
        f"{'total (USD a month)':<{width}}  {totals['month_1']:>9.2f}  {totals['month_12']:>9.2f}"  # type: ignore[index]
    )
    print(total + (f"  {shown['seed']['monthly_usd']['month_12']:>9.2f}" if seed else ""))  # type: ignore[index]
    free = sum(item.free_usd for item in ours.items)
    print(f"the always-free tiers would take ${free:.2f} off each month (not subtracted above)")
    if seed:
        ratio = shown["seed_over_ours"]["month_12"]  # type: ignore[index]
        print(
            f"the seed's design (every minute 24x7, x86, no levers) costs {ratio}x ours in month 12"
        )
    return 0
