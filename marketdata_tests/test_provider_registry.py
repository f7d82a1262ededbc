"""The vendor registry: every vendor registered once, asked by everyone, named nowhere else."""

import ast
import re
from pathlib import Path

import grimp
import pytest

import marketdata_assets
from marketdata_assets.errors import ConfigError
from marketdata_assets.operations import sections
from marketdata_assets.operations.sections import ProviderSection
from marketdata_assets.providers import registry
from marketdata_assets.settings import Settings

pytestmark = pytest.mark.domain

PACKAGE = Path(marketdata_assets.__file__).parent
VENDORS = [spec.name for spec in registry.VENDORS]
# Vendor names that are also ordinary words ("a JSON Lines file", `file_budget`): only their
# use as a name is looked for (a string that is the name, `--provider NAME`, an import of the
# vendor's package); the others anywhere in code (identifiers and strings, not docstrings).
WORDS = {"stub", "replay", "file"}
# Uses of a word that are not the vendor: (module, what the scan reports) -> why.
NOT_THE_VENDOR = {
    ("web/minutes.py", "'replay' in 'replay'"): "the quarantine API's field holding the replay "
    "command (an interface; the command names the provider through the registry)",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def _registry_lines(tree: ast.Module) -> set[int]:
    """The lines of registry.py's one entry per vendor: its import and the VENDORS tuple."""
    lines: set[int] = set()
    for node in tree.body:
        is_import = (
            isinstance(node, ast.ImportFrom) and node.module == "marketdata_assets.providers"
        )
        is_list = isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "VENDORS" for target in node.targets
        )
        if is_import or is_list:
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _vendor_names(path: Path) -> list[tuple[int, str]]:
    """(line, what) for each use of a vendor's name in the module's code."""
    tree = ast.parse(path.read_text())
    docstrings = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        texts: list[str] = []
        names: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                texts.append(node.value)
        elif isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:
            names.append(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for module in modules:
                parts = module.split(".")
                vendor_package = parts[:2] == ["marketdata_assets", "providers"] and len(parts) > 2
                if vendor_package and parts[2] in VENDORS:
                    hits.append((node.lineno, f"imports {module}"))
        for vendor in VENDORS:
            for text in texts:
                named = text.strip().lower() == vendor
                named |= bool(re.search(rf"--provider[ =]+{vendor}\b", text))
                if vendor not in WORDS:
                    named |= bool(re.search(rf"\b{vendor}\b", text, re.IGNORECASE))
                if named:
                    hits.append((node.lineno, f"{vendor!r} in {text!r}"))
            for name in names:
                if vendor not in WORDS and vendor in name.lower():
                    hits.append((node.lineno, f"{vendor!r} in the name {name}"))
    if path == PACKAGE / "providers" / "registry.py":
        allowed = _registry_lines(tree)
        hits = [(line, what) for line, what in hits if line not in allowed]
    return sorted(set(hits))


def test_no_vendor_is_named_outside_its_own_package() -> None:
    """The registry's one entry per vendor (its import and the VENDORS tuple) is the exception."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        inside = path.relative_to(PACKAGE).parts
        if inside[:1] == ("providers",) and len(inside) > 2 and inside[1] in VENDORS:
            continue  # the vendor's own package
        name = str(path.relative_to(PACKAGE))
        hits = [
            (line, what) for line, what in _vendor_names(path) if (name, what) not in NOT_THE_VENDOR
        ]
        if hits:
            found[name] = hits
    assert found == {}


def test_the_scan_finds_a_vendor_named_in_code(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text(
        '"""Docstrings may say yahoo."""\n'
        "from marketdata_assets.providers.yahoo.quotes import parse\n"
        'if provider == "alphavantage":\n'
        "    alphavantage_daily_budget = 1\n"
        'command = f"marketdata tick --provider replay --at {tick}"\n'
        'default = "stub"\n'
        'prose = "a JSON Lines file"\n'
    )
    lines = [line for line, _ in _vendor_names(module)]
    assert lines == [2, 2, 3, 4, 5, 6]  # the import twice: the module and the name


def test_every_vendor_has_one_spec_with_a_capability_and_a_section() -> None:
    assert len(VENDORS) == len(set(VENDORS)) == 5
    for spec in registry.VENDORS:
        assert spec.quotes is not None or spec.history is not None, spec.name
        assert issubclass(spec.settings, ProviderSection)
        assert spec.summary and "\n" not in spec.summary
        assert registry.spec(spec.name) is spec
    assert registry.tick_providers() == ("stub", "replay", "alphavantage", "yahoo")
    assert registry.history_sources() == ("stub", "alphavantage", "yahoo", "file")
    flags = {spec.name: (spec.needs_key, spec.charges_budget) for spec in registry.VENDORS}
    assert {name for name, flag in flags.items() if any(flag)} == {"alphavantage"}


def test_settings_accept_every_tick_provider_and_give_each_vendor_its_section() -> None:
    for name in registry.tick_providers():
        assert Settings.from_env({"MARKETDATA_PROVIDER": name}).provider == name
    with pytest.raises(ConfigError, match=r"^MARKETDATA_PROVIDER='file': must be one of stub"):
        Settings.from_env({"MARKETDATA_PROVIDER": "file"})  # history only
    held = Settings().providers
    for spec in registry.VENDORS:
        assert isinstance(held.of(spec.name), spec.settings)
    assert Settings().provider == registry.tick_providers()[0]


def test_settings_read_every_variable_users_set_today() -> None:
    read = Settings.from_env(
        {
            "MARKETDATA_PROFILE": "aws",
            "MARKETDATA_BUCKET": "b",
            "MARKETDATA_TABLE": "t",
            "MARKETDATA_YAHOO_URL": "http://127.0.0.1:1/y",
            "MARKETDATA_ALPHAVANTAGE_URL": "http://127.0.0.1:1/av",
            "MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET": "40",
            "ALPHAVANTAGE_API_KEY_PARAM": "/md/av",
        }
    )
    assert read.providers.yahoo.url == "http://127.0.0.1:1/y"
    av = read.providers.alphavantage
    assert (av.url, av.daily_budget, av.key_param) == ("http://127.0.0.1:1/av", 40, "/md/av")
    assert sections.variable("alphavantage", "daily_budget") == (
        "MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET"
    )


def test_a_section_change_keeps_the_sections_other_fields() -> None:
    base = Settings(providers={"alphavantage": {"daily_budget": 9, "url": "http://a"}})
    changed = base.with_overrides(providers={"alphavantage": {"daily_budget": 3}})
    assert (changed.providers.alphavantage.daily_budget, changed.providers.alphavantage.url) == (
        3,
        "http://a",
    )
    with pytest.raises(ConfigError, match=r"^'bloomberg': no such vendor"):
        base.with_overrides(providers={"bloomberg": {}})
    with pytest.raises(ConfigError, match=r"^MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET=0: must be"):
        base.with_overrides(providers={"alphavantage": {"daily_budget": 0}})


def test_settings_import_no_provider_module_and_no_provider_reads_the_environment() -> None:
    tree = ast.parse(
        (PACKAGE / "settings.py").read_text() + (PACKAGE / "operations" / "sections.py").read_text()
    )
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name and name.startswith("marketdata_assets.prov")]
    paths = [*sorted((PACKAGE / "providers").rglob("*.py")), PACKAGE / "stores.py"]
    readers = [
        str(path.relative_to(PACKAGE))
        for path in [*paths, PACKAGE / "operations" / "sections.py", PACKAGE / "settings.py"]
        if re.search(r"\bos\.environ\b|\bgetenv\(", path.read_text())
    ]
    assert readers == ["settings.py"]


def test_no_import_cycle_through_the_providers_curation_or_settings() -> None:
    graph = grimp.build_graph("marketdata_assets", cache_dir=None)
    watched = [
        module
        for module in graph.modules
        if module.startswith("marketdata_assets.providers")
        or module in ("marketdata_assets.settings", "marketdata_assets.tick.curation")
    ]
    cycles = []
    for module in watched:
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.append((module, *back))
    assert cycles == []


def test_an_unknown_provider_is_one_line_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"^provider 'bloomberg': unknown; choose one of stub"):
        registry.spec("bloomberg")
    assert registry.envelope_parser("bloomberg") is None and registry.history_of("x") is None
    assert registry.envelope_parser("stub") is None  # flat records, no envelope
    assert registry.envelope_parser("yahoo") is not None
    assert registry.choices(("a", "b", "c")) == "a, b or c"


def test_a_vendors_spec_imports_nothing_heavy_until_it_is_used() -> None:
    """Every entry point imports the registry (the package's `__init__`), so a vendor's
    `__init__` imports at load only the spec's own light modules; its provider, parser and
    reader (httpx, numpy, pandas) are imported when first called; so does the module of the
    chart readers they share."""
    light = {
        "collections.abc",
        "datetime",
        "typing",
        "pydantic",
        "__future__",
        "marketdata_assets.errors",
        "marketdata_assets.operations.sections",
        "marketdata_assets.providers.spec",
        "marketdata_assets.providers.chart_readers",
    }
    providers = PACKAGE / "providers"
    files = [providers / spec.name / "__init__.py" for spec in registry.VENDORS]
    for path in [*files, providers / "chart_readers.py"]:
        tree = ast.parse(path.read_text())
        loaded = {
            node.module or ""
            for node in tree.body  # module level, outside `if TYPE_CHECKING:` and functions
            if isinstance(node, ast.ImportFrom)
        } | {
            alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names
        }
        assert loaded <= light, (path.relative_to(PACKAGE), loaded - light)
