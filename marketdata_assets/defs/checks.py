"""Asset checks that surface the gate's Great Expectations results in Dagster."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from marketdata_assets.gate.expectations import suite_definition
from marketdata_assets.gate.routing import Verdict

PREVIEW_ROWS = 10
CONTEXT_RULES = {"no_duplicates": "duplicate", "no_price_jumps": "price_jump"}

GATE_CHECKS = [
    AssetCheckSpec(
        "expectation_suite",
        asset="validated_ticks",
        description="Every curated row passed the Great Expectations suite (suite.json).",
    ),
    AssetCheckSpec(
        "no_duplicates",
        asset="validated_ticks",
        description="No two rows of the tick share symbol and event_ts.",
    ),
    AssetCheckSpec(
        "no_price_jumps",
        asset="validated_ticks",
        description="No clean row moved more than the jump threshold from the last held price.",
    ),
    AssetCheckSpec(
        "quarantine_share",
        asset="quarantined_ticks",
        description="The quarantined share of the tick stays under the warning threshold.",
    ),
]


def gate_check_results(
    verdict: Verdict, quarantined: pd.DataFrame, warn_share: float
) -> Iterator[AssetCheckResult]:
    """WARN-severity results: the UI shows what failed without blocking clean rows."""
    suite = suite_definition()
    suite_rules = {e["meta"]["rule"] for e in suite["expectations"]}
    suite_failures = {
        rule: count
        for rule, count in verdict.rule_failures.items()
        if count and rule in suite_rules
    }
    rows = len(verdict.passed)
    yield AssetCheckResult(
        check_name="expectation_suite",
        asset_key="validated_ticks",
        passed=not suite_failures,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "suite": suite["name"],
            "suite_version": suite["meta"]["suite_version"],
            "rules": len(suite["expectations"]),
            "rows_judged": rows,
            "failing_rules": suite_failures,
        },
    )
    counts = verdict.reason_counts()
    for check_name, reason in CONTEXT_RULES.items():
        yield AssetCheckResult(
            check_name=check_name,
            asset_key="validated_ticks",
            passed=counts.get(reason, 0) == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"quarantined_rows": counts.get(reason, 0)},
        )
    share = len(quarantined) / rows if rows else 0.0
    yield AssetCheckResult(
        check_name="quarantine_share",
        asset_key="quarantined_ticks",
        passed=share <= warn_share,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "quarantined": len(quarantined),
            "rows": rows,
            "share": round(share, 4),
            "threshold": warn_share,
            "reasons": counts,
            "preview": MetadataValue.md(_preview(quarantined)),
        },
    )


def _preview(quarantined: pd.DataFrame) -> str:
    if quarantined.empty:
        return "_nothing quarantined_"
    head = quarantined.head(PREVIEW_ROWS)
    lines = ["| line | reasons | record |", "|---|---|---|"]
    for row in head.itertuples(index=False):
        text = row.record if isinstance(row.record, str) else row.raw
        text = (text or "")[:120].replace("|", "\\|")
        lines.append(f"| {row.line} | {', '.join(row.reasons)} | `{text}` |")
    return "\n".join(lines)
