"""The CLI explains itself (issue 21, item 6): `marketdata --version`, and every subcommand's
`--help` has a one-line description and an example that parses as written."""

from __future__ import annotations

import argparse
import shlex
from importlib.metadata import version

import pytest

from marketdata_assets.cli import main, parser

pytestmark = pytest.mark.domain


def subcommands() -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices)


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"marketdata {version('marketdata')}\n"


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_each_subcommand_has_a_description_and_an_example_that_parses(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    description = text.split("\n\n")[1]
    assert "\n" not in description.strip() and description.strip().endswith(".")
    assert "\nexample:\n  marketdata " in text
    example = text.split("\nexample:\n  ")[1].strip()
    args = parser().parse_args(shlex.split(example)[1:])  # a usage error would exit 2
    assert args.command == name
