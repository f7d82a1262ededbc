"""What `infra/` declares that the bill depends on, read from the Terraform files themselves
(never copied): the lake's lifecycle rules, the alarms and the metrics they watch, the log
retention, the images ECR keeps, the Lambda's architecture and tracing, and the latest table's
capacity mode.

The reader knows the little HCL these files use: blocks, `name = value` attributes, numbers,
strings (with `${local.NAME}` inside), `var.NAME` (its default in variables.tf) and
`local.datasets.NAME.prefix` (infra/datasets.json). Anything else is an error naming the file
and the expression, never a guess.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

INFRA = Path(__file__).resolve().parents[2] / "infra"


class InfraError(ValueError):
    """infra/ declares something this reader cannot evaluate."""


@dataclass(frozen=True)
class Block:
    kind: str  # "resource", "rule", "filter"…
    labels: tuple[str, ...]
    body: str

    def blocks(self, kind: str) -> list[Block]:
        return blocks(self.body, kind)

    def block(self, kind: str) -> Block | None:
        found = self.blocks(kind)
        return found[0] if found else None

    def attribute(self, name: str) -> str | None:
        """The raw expression of a top-level `name = …` of this block (None when absent)."""
        depth = 0
        for line, code in zip(self.body.split("\n"), _code(self.body).split("\n"), strict=True):
            if depth == 0:
                match = re.match(rf"\s*{re.escape(name)}\s*=\s*", code)
                if match:
                    return line[match.end() : len(code.rstrip())].strip()
            depth += code.count("{") - code.count("}")
        return None


def _code(text: str) -> str:
    """`text` with comments and the braces inside strings blanked (same length, same lines)."""
    out = []
    for line in text.split("\n"):
        kept, quoted, comment = [], False, False
        for char in line:
            if char == '"' and not comment:
                quoted = not quoted
            elif not quoted and char == "#":
                comment = True
            kept.append(" " if comment or (quoted and char in "{}") else char)
        out.append("".join(kept))
    return "\n".join(out)


def blocks(text: str, kind: str) -> list[Block]:
    """The top-level `kind "label"… { … }` blocks of `text`."""
    code = _code(text)
    found: list[Block] = []
    header = re.compile(rf'^\s*{re.escape(kind)}((?:\s+"[^"]*")*)\s*\{{', re.MULTILINE)
    position = 0
    while True:
        match = header.search(code, position)
        if match is None:
            return found
        depth = sum(1 if c == "{" else -1 for c in code[: match.start()] if c in "{}")
        start = match.end()
        if depth != 0:  # nested in another block
            position = start
            continue
        level, end = 1, start
        while level:
            level += {"{": 1, "}": -1}.get(code[end], 0)
            end += 1
        labels = tuple(re.findall(r'"([^"]*)"', match.group(1)))
        found.append(Block(kind, labels, text[start : end - 1]))
        position = end


class Infra:
    """The Terraform of one folder (default: the repository's infra/)."""

    def __init__(self, folder: Path = INFRA):
        self.folder = folder
        self.files = {p.name: p.read_text() for p in sorted(folder.glob("*.tf"))}
        if not self.files:
            raise InfraError(f"{folder}: no Terraform files (*.tf)")
        self.datasets = json.loads((folder / "datasets.json").read_text())["datasets"]

    def resources(self, kind: str) -> list[Block]:
        return [
            b
            for text in self.files.values()
            for b in blocks(text, "resource")
            if b.labels[0] == kind
        ]

    def resource(self, kind: str, name: str) -> Block:
        for block in self.resources(kind):
            if block.labels[1:] == (name,):
                return block
        raise InfraError(f"{self.folder}: no resource {kind}.{name}")

    def default(self, variable: str) -> str:
        for block in blocks(self.files.get("variables.tf", ""), "variable"):
            if block.labels == (variable,):
                value = block.attribute("default")
                if value is not None:
                    return value
        raise InfraError(f"{self.folder}/variables.tf: no default for var.{variable}")

    def local(self, name: str) -> str:
        for text in self.files.values():
            for block in blocks(text, "locals"):
                value = block.attribute(name)
                if value is not None:
                    return value
        raise InfraError(f"{self.folder}: no local.{name}")

    def number(self, expression: str, where: str) -> float:
        expression = expression.strip()
        if expression.startswith("var."):
            return self.number(self.default(expression[4:]), where)
        try:
            return float(expression)
        except ValueError:
            raise InfraError(f"{where}: cannot read the number {expression!r}") from None

    def string(self, expression: str, where: str) -> str:
        expression = expression.strip()
        dataset = re.fullmatch(r"local\.datasets\.(\w+)\.prefix", expression)
        if dataset:
            return str(self.datasets[dataset.group(1)]["prefix"])
        if expression.startswith("var."):
            return self.string(self.default(expression[4:]), where)
        if not (expression.startswith('"') and expression.endswith('"')):
            raise InfraError(f"{where}: cannot read the string {expression!r}")
        text = expression[1:-1]
        for name in re.findall(r"\$\{local\.(\w+)\}", text):
            text = text.replace(f"${{local.{name}}}", self.string(self.local(name), where))
        if "${" in text:
            raise InfraError(f"{where}: cannot read the string {expression!r}")
        return text
