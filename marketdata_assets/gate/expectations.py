"""The Great Expectations row rules: one versioned suite file per gate, validated in memory.

Two suites: `ticks` (suite.json, the minute tick's curated rows) and `bars` (bars_suite.json,
the history's bar candidates).

Great Expectations costs about 3 s to import, so it is imported on first use, never at
module import: `dagster dev` and the CLI start without it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

SUITE_PATHS = {
    "ticks": Path(__file__).with_name("suite.json"),
    "bars": Path(__file__).with_name("bars_suite.json"),
}
SUITE_PATH = SUITE_PATHS["ticks"]


class GateError(RuntimeError):
    """The suite itself could not be evaluated (a rule raised): nothing may pass unjudged."""


@dataclass(frozen=True)
class RuleOutcome:
    """One expectation's verdict: which rows (by position) broke it."""

    rule: str
    reason: str
    unexpected: list[int]


@cache
def suite_definition(suite: str = "ticks") -> dict[str, Any]:
    """A suite file as JSON: name, meta (with suite_version) and expectations."""
    loaded: dict[str, Any] = json.loads(SUITE_PATHS[suite].read_text())
    return loaded


@cache
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    return gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False),
        ),
    )


@cache
def _validator(suite: str) -> tuple[Any, Any]:
    import great_expectations as gx

    definition = suite_definition(suite)
    batches = (
        _context()
        .data_sources.add_pandas(suite)
        .add_dataframe_asset(definition["name"])
        .add_batch_definition_whole_dataframe("frame")
    )
    return batches, gx.ExpectationSuite(**definition)


def validate(frame: pd.DataFrame, suite: str = "ticks") -> list[RuleOutcome]:
    """Validate `frame` (RangeIndex) against a suite (`ticks` or `bars`); unexpected rows come
    back uncapped."""
    batches, expectations = _validator(suite)
    frame = frame.reset_index(drop=True)
    result = batches.get_batch(batch_parameters={"dataframe": frame}).validate(
        expectations, result_format={"result_format": "COMPLETE"}
    )
    outcomes = []
    for item in result.results:
        meta = item.expectation_config.meta
        if item.exception_info and item.exception_info.get("raised_exception"):
            message = item.exception_info.get("exception_message")
            raise GateError(f"gate rule {meta['rule']} could not be evaluated: {message}")
        unexpected = item.result.get("unexpected_index_list") or []
        outcomes.append(RuleOutcome(meta["rule"], meta["reason"], [int(i) for i in unexpected]))
    return outcomes
