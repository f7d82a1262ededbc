"""Asset checks: each sits on the asset it judges and can fail.

Blocking (ERROR) checks judge what was stored and stop the run before a bad dataset feeds the
next one; WARN checks report on the data (how much of a tick was quarantined) without blocking.
"""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetIn,
    MetadataValue,
    asset_check,
)

from marketdata_assets.defs.tick import TickRun
from marketdata_assets.gate.expectations import suite_definition
from marketdata_assets.gate.routing import Verdict
from marketdata_assets.tick.contracts import curated_violations, validated_violations
from marketdata_assets.tick.curation import provider_failures

PREVIEW_ROWS = 10

QUARANTINE_SHARE = AssetCheckSpec(
    "quarantine_share",
    asset="quarantined_ticks",
    description="The quarantined share of the tick stays under the warning threshold; shows "
    "counts per reason and per suite rule, level shifts accepted, and a preview.",
)


def provider_delivered(payload: bytes, records: int, errors: int) -> AssetCheckResult:
    """Fails (blocking) when every requested symbol failed at the provider."""
    return AssetCheckResult(
        check_name="provider_delivered",
        passed=records > 0 or errors == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "records": records,
            "provider_errors": errors,
            "errors_by_symbol": provider_failures(payload),
        },
    )


@asset_check(
    asset="curated_ticks",
    blocking=True,
    additional_ins={"raw_ticks": AssetIn("raw_ticks")},
    description="The stored curated object keeps its contract: the curated schema, one row "
    "per raw record in line order, the run's tick, standardised symbols.",
)
def schema_contract(
    curated_ticks: pd.DataFrame, raw_ticks: bytes, tick_run: TickRun
) -> AssetCheckResult:
    problems = curated_violations(curated_ticks, raw_ticks, tick_run.tick)
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={"rows": len(curated_ticks), "problems": problems},
    )


@asset_check(
    asset="validated_ticks",
    blocking=True,
    description="The stored validated rows keep the validated schema, pass every rule of the "
    "suite again and repeat no symbol and event_ts; failing stops the run before latest_prices.",
)
def expectation_suite(validated_ticks: pd.DataFrame) -> AssetCheckResult:
    from marketdata_assets.gate.routing import suite_failures

    suite = suite_definition()
    failures = suite_failures(validated_ticks) if len(validated_ticks) else {}
    problems = validated_violations(validated_ticks)
    return AssetCheckResult(
        passed=not failures and not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "suite": suite["name"],
            "suite_version": suite["meta"]["suite_version"],
            "rules": len(suite["expectations"]),
            "rows": len(validated_ticks),
            "failing_rules": failures,
            "problems": problems,
        },
    )


def quarantine_share(
    verdict: Verdict, quarantined: pd.DataFrame, warn_share: float
) -> AssetCheckResult:
    """WARN when more of the tick than `warn_share` was quarantined (the provider is sending
    bad data); the metadata says why rows were quarantined."""
    suite_rules = {e["meta"]["rule"] for e in suite_definition()["expectations"]}
    rows = len(verdict.passed)
    share = len(quarantined) / rows if rows else 0.0
    return AssetCheckResult(
        check_name="quarantine_share",
        asset_key="quarantined_ticks",
        passed=share <= warn_share,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "quarantined": len(quarantined),
            "rows": rows,
            "share": round(share, 4),
            "threshold": warn_share,
            "reasons": verdict.reason_counts(),
            "failing_rules": {
                rule: count
                for rule, count in verdict.rule_failures.items()
                if count and rule in suite_rules
            },
            "level_shifts": verdict.level_shifts,
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
        text = (text or "")[:120].replace("|", "\\|").replace("`", "'")
        lines.append(f"| {row.line} | {', '.join(row.reasons)} | `{text}` |")
    return "\n".join(lines)


def tick_checks() -> list[AssetChecksDefinition]:
    """The checks defined apart from their assets, for Definitions."""
    return [schema_contract, expectation_suite]
