"""The profile (local or aws) is decided in `settings.py` and `stores.py` only: everything else
asks `stores` for what it needs (a lake, a table, a kind), so no other module branches on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import marketdata_assets

pytestmark = pytest.mark.domain

PACKAGE = Path(marketdata_assets.__file__).parent
ALLOWED = {"settings.py", "stores.py"}
PROFILES = {"aws", "local"}
# Asking which backend an object is amounts to asking the profile.
BACKENDS = {"LocalObjectStore", "S3ObjectStore", "SqliteLatestPriceStore", "DynamoLatestPriceStore"}


def _names_profile(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "profile") or (
        isinstance(node, ast.Name) and node.id == "profile"
    )


def _is_profile_name(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in PROFILES


def _backend(node: ast.expr) -> bool:
    named = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    return named in BACKENDS or (
        isinstance(node, ast.Tuple) and any(_backend(item) for item in node.elts)
    )


def profile_branches(source: str) -> list[tuple[int, str]]:
    """Each line of `source` that branches on the profile, and how: a comparison with the
    profile or with a profile's name, a `match` on the profile, or an `isinstance` asking
    which backend a store is."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_profile(o) for o in operands):
                found.append((node.lineno, "compares the profile"))
            elif any(_is_profile_name(o) for o in operands):
                found.append((node.lineno, "compares with a profile's name"))
        elif isinstance(node, ast.Match) and _names_profile(node.subject):
            found.append((node.lineno, "matches on the profile"))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "isinstance"
            and len(node.args) == 2
            and _backend(node.args[1])
        ):
            found.append((node.lineno, "asks which backend a store is"))
    return sorted(found)


def test_the_detector_sees_each_kind_of_profile_branch() -> None:
    source = """
if settings.profile == "aws": pass
kind = "dynamodb" if self.settings.profile != "local" else "sqlite"
running = profile == "aws"
local = env.get("MARKETDATA_PROFILE", "local") != "aws"
match settings.profile:
    case _: pass
if isinstance(lake, (LocalObjectStore, int)): pass
assert isinstance(lake, S3ObjectStore)
health = {"profile": settings.profile}
if settings.provider == "stub" and isinstance(lake, dict): pass
"""
    assert profile_branches(source) == [
        (2, "compares the profile"),
        (3, "compares the profile"),
        (4, "compares the profile"),
        (5, "compares with a profile's name"),
        (6, "matches on the profile"),
        (8, "asks which backend a store is"),
        (9, "asks which backend a store is"),
    ]


def test_no_module_but_settings_and_stores_branches_on_the_profile() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {how}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() not in ALLOWED
        for line, how in profile_branches(path.read_text())
    ]
    assert found == [], "branches on the profile outside settings.py and stores.py:\n" + "\n".join(
        found
    )
