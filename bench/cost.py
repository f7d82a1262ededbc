"""The tick Lambda's memory, chosen by measurement: warm ticks measured on an in-process moto
(`marketdata_assets.cost.measure`), their duration modelled at 512, 1024 and 2048 MB arm64
(compute on the CPU share Lambda gives the memory, AWS waits unchanged), and the month's
Lambda bill at each, beside the cheapest; then the DynamoDB capacity modes priced from the
measured write rate. Also prints the peak memory a tick needs (a Lambda below it fails).

    .venv/bin/python bench/cost.py [--symbols 500] [--provider stub] [--quick]
"""

from __future__ import annotations

import argparse
import math
import resource

from marketdata_assets.cost import capacity, schedule
from marketdata_assets.cost.bill import FULL_VCPU_MB, duration_s
from marketdata_assets.cost.measure import measure
from marketdata_assets.cost.pricing import prices
from marketdata_assets.operations.time_budget import LAMBDA_TIMEOUT_S

MEMORIES = (512, 1024, 2048)
# Provisioned capacity: the writes of a tick arrive in a burst each minute, which DynamoDB's
# burst capacity (up to 300 s of unused capacity) absorbs when the provisioned rate covers the
# average with this headroom; 1 unit outside the session (scheduled scaling).
HEADROOM = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--provider", default="stub")
    parser.add_argument("--quick", action="store_true", help="one measured tick, not three")
    args = parser.parse_args()
    measured = measure(args.symbols, args.provider, 1 if args.quick else 3)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    month = schedule.month("session")
    tick = measured.open
    print(
        f"{args.symbols} symbols ({args.provider}), {month.open:,.0f} open ticks a month; "
        f"a tick: {tick.compute_s:.3f} s compute, {tick.aws_s:.3f} s in AWS calls; "
        f"process peak RSS {peak_mb:.0f} MB"
    )
    gb_second = prices()["lambda_arm64_gb_second"]["usd"]
    rows = []
    for memory in MEMORIES:
        seconds = duration_s(tick, memory)
        gb_s = seconds * memory / 1024
        rows.append((memory, seconds, gb_s, gb_s * month.open * gb_second))
    cheapest = min(row[3] for row in rows)
    print(
        "| memory MB | vCPU share | tick s | GB-s a tick | USD a month | vs cheapest "
        f"| fits {LAMBDA_TIMEOUT_S} s |"
    )
    print("|---|---|---|---|---|---|---|")
    for memory, seconds, gb_s, usd in rows:
        share = min(1.0, memory / FULL_VCPU_MB)
        fits = "yes" if seconds < LAMBDA_TIMEOUT_S and memory > peak_mb else "no"
        print(
            f"| {memory} | {share:.2f} | {seconds:.3f} | {gb_s:.3f} | {usd:.4f} | "
            f"{usd / cheapest:.2f}x | {fits} |"
        )
    writes_per_tick = tick.write_units
    wcu = max(1, math.ceil(writes_per_tick / 60 * HEADROOM))
    session_hours = schedule.weekdays_per_month() * capacity.SCALED_HOURS_A_DAY
    other_hours = 365 * 24 / 12 - session_hours
    table = prices()
    on_demand = writes_per_tick * month.open * table["dynamodb_write_request_unit"]["usd"]
    provisioned = (wcu * session_hours + other_hours) * table["dynamodb_wcu_hour"]["usd"]
    provisioned += 365 * 24 / 12 * table["dynamodb_rcu_hour"]["usd"]  # 1 RCU all month
    print(
        f"DynamoDB: {writes_per_tick:.0f} writes a tick; on-demand {on_demand:.4f} USD a month, "
        f"provisioned {wcu} WCU 09:25-16:05 weekdays ({session_hours:.0f} h), 1 outside, plus "
        f"1 RCU: {provisioned:.4f} USD ({provisioned / on_demand:.2f}x on-demand)"
    )


if __name__ == "__main__":
    main()
