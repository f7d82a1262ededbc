"""infra/datasets.json: what Terraform reads of the dataset registry (prefixes, Glue tables).

`python -m marketdata_assets.lake.terraform --write` regenerates it; `--check` fails when the
committed file is stale. Terraform reads it with `jsondecode(file(...))`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from marketdata_assets.lake.datasets import Dataset, registry
from marketdata_assets.lake.schemas import glue_columns

# The partition keys of a dataset's Glue table, as its key layout gives them.
_PARTITIONS = {
    "minute": [
        ["date", "string", "The UTC day, YYYY-MM-DD."],
        ["minute", "string", "The tick minute, HHMM (UTC)."],
    ],
    "day": [["date", "string", "The NYSE session, YYYY-MM-DD (New York)."]],
    "month": [["month", "string", "The calendar month of the sessions held, YYYY-MM."]],
}
TERRAFORM_FILE = Path(__file__).resolve().parents[2] / "infra" / "datasets.json"
_ITEM = re.compile(r'"(?:[^"\\]|\\.)*"')
_STRINGS = re.compile(rf"\[\s+({_ITEM.pattern}(?:,\s+{_ITEM.pattern})*)\s+\]")
WRITE_COMMAND = "python -m marketdata_assets.lake.terraform --write"


def terraform_datasets(datasets: tuple[Dataset, ...] | None = None) -> dict[str, object]:
    """What Terraform reads of `datasets` (default: the registry's; infra/datasets.json): each
    one's prefix, grain, role and, for Glue, whether it is catalogued, its description, columns
    and partition keys."""
    return {
        "generated_by": WRITE_COMMAND,
        "datasets": {
            d.name: {
                "prefix": d.prefix,
                "grain": d.grain,
                "role": d.role,
                "catalogued": d.catalogued,
                "description": d.description,
                "columns": glue_columns(d.columns),
                "partition_keys": _PARTITIONS[d.grain],
            }
            for d in (registry() if datasets is None else datasets)
        },
    }


def terraform_json(datasets: tuple[Dataset, ...] | None = None) -> str:
    """infra/datasets.json's text for `datasets` (default: the registry's), a list of strings on
    one line."""
    text = json.dumps(terraform_datasets(datasets), indent=2)
    return _STRINGS.sub(lambda m: f"[{', '.join(_ITEM.findall(m.group(1)))}]", text) + "\n"


def main(argv: list[str]) -> int:
    """--write regenerates infra/datasets.json; --check fails (1) when it is stale."""
    if argv not in (["--write"], ["--check"]):
        print(f"usage: {WRITE_COMMAND.removesuffix(' --write')} --write | --check", file=sys.stderr)
        return 2
    text = terraform_json()
    if argv == ["--write"]:
        TERRAFORM_FILE.write_text(text)
        return 0
    if not TERRAFORM_FILE.exists() or TERRAFORM_FILE.read_text() != text:
        print(f"{TERRAFORM_FILE} is stale: run {WRITE_COMMAND}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
