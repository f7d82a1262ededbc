"""The environment is read in settings.py alone: no other module of the package touches
`os.environ` or `os.getenv` (the AWS variables, DAGSTER_HOME and secrets go through settings)."""

import ast
from pathlib import Path

import pytest

import marketdata_assets

pytestmark = pytest.mark.domain

PACKAGE = Path(marketdata_assets.__file__).parent
ALLOWED = {PACKAGE / "settings.py"}


def environment_reads(source: str) -> list[int]:
    """Lines of `source` that read the process environment through `os`."""
    names = {"environ", "getenv", "environb"}
    lines = []
    for node in ast.walk(ast.parse(source)):
        through_os = (
            isinstance(node, ast.Attribute)
            and node.attr in names
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
        imported = (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in names for alias in node.names)
        )
        if through_os or imported:
            lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_sees_each_way_of_reading_the_environment() -> None:
    assert environment_reads("import os\nos.environ.get('X')\n") == [2]
    assert environment_reads("import os\nos.getenv('X')\n") == [2]
    assert environment_reads("from os import environ\n") == [1]
    assert environment_reads("import os\nos.path.join('a')\n") == []


def test_only_settings_reads_the_environment() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in ALLOWED
        for line in environment_reads(path.read_text())
    ]
    assert found == [], f"read the environment through settings.py instead: {found}"
