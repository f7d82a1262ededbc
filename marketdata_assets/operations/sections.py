"""Settings sections: each vendor's own settings, composed into `Settings.providers`.

A vendor's package declares its `ProviderSection` model; the provider registry registers it
here (`register_provider`) when the package is imported. `settings.py` validates
`Settings.providers` against what is registered, so it names no vendor and imports no provider.
Nothing here reads the environment: `settings.py` hands it the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict, ValidationError

PREFIX = "MARKETDATA_"


class ProviderSection(BaseModel):
    """A vendor's settings; its package subclasses it. A field's `validation_alias` is the
    variable it is read from (default `MARKETDATA_<VENDOR>_<FIELD>`); `json_schema_extra=
    {"aws_only": True}` reads it only under MARKETDATA_PROFILE=aws."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )


class ProviderSections(BaseModel):
    """Every registered vendor's section, as attributes: `settings.providers.<vendor>`."""

    model_config = ConfigDict(frozen=True, extra="allow")

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

    def of(self, vendor: str) -> ProviderSection:
        """The section of `vendor` (KeyError for a vendor that registered none)."""
        section = (self.model_extra or {}).get(vendor)
        if section is None:
            raise KeyError(vendor)
        return cast(ProviderSection, section)


# Registered by the provider registry: vendor -> its section model; and the tick providers.
_SECTIONS: dict[str, type[ProviderSection]] = {}
_TICK_PROVIDERS: list[str] = []


def register_provider(
    vendor: str, section: type[ProviderSection] = ProviderSection, *, ticks: bool
) -> None:
    """Make `vendor`'s section part of Settings (and, when it `ticks`, a provider choice)."""
    _SECTIONS[vendor] = section
    if ticks and vendor not in _TICK_PROVIDERS:
        _TICK_PROVIDERS.append(vendor)


def tick_providers() -> tuple[str, ...]:
    """The names `provider` accepts, in registration order."""
    return tuple(_TICK_PROVIDERS)


def variable(vendor: str, field: str) -> str:
    """The environment variable of `vendor`'s section field `field`."""
    alias = _SECTIONS[vendor].model_fields[field].validation_alias
    return alias if isinstance(alias, str) else f"{PREFIX}{vendor}_{field}".upper()


def section_values(env: Mapping[str, str], deployed: bool) -> dict[str, dict[str, str]]:
    """Each section's fields found in `env` (names case-insensitive, empty counts as unset);
    the `aws_only` ones only when `deployed` (under MARKETDATA_PROFILE=aws)."""
    found = {name.lower(): value for name, value in env.items() if value != ""}
    values: dict[str, dict[str, str]] = {}
    for vendor, model in _SECTIONS.items():
        for field, info in model.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if extra.get("aws_only") and not deployed:
                continue  # an AWS deployment's (an SSM name): locally the environment holds it
            value = found.get(variable(vendor, field).lower())
            if value is not None:
                values.setdefault(vendor, {})[field] = value
    return values


def validated_sections(value: object) -> ProviderSections:
    """Every registered section validated (defaults for those not given); one line per error."""
    if isinstance(value, ProviderSections):
        value = {vendor: value.of(vendor) for vendor in (value.model_extra or {})}
    if not isinstance(value, Mapping):
        raise ValueError("must be a mapping of vendor to its settings")
    unknown = sorted(set(value) - set(_SECTIONS))
    if unknown:
        raise ValueError(f"{unknown[0]!r}: no such vendor; known: {', '.join(_SECTIONS)}")
    sections = {}
    for vendor, model in _SECTIONS.items():
        given = value.get(vendor, {})
        try:
            sections[vendor] = given if isinstance(given, model) else model.model_validate(given)
        except ValidationError as error:
            raise ValueError(_section_line(vendor, model, error, given)) from None
    return ProviderSections(**sections)


def _section_line(
    vendor: str, model: type[ProviderSection], error: ValidationError, given: object
) -> str:
    """A section's first broken rule as `VARIABLE='value': must be …`."""
    first = error.errors(include_url=False)[0]
    key = str(first["loc"][0]) if first["loc"] else ""
    field = next((n for n, f in model.model_fields.items() if key in (n, f.validation_alias)), None)
    if field is None:
        return f"{vendor} settings: {first['msg']}"
    raw = given.get(field, first["input"]) if isinstance(given, Mapping) else first["input"]
    cause = first.get("ctx", {}).get("error") if first["type"] == "value_error" else None
    rule = cause if cause is not None else "must be " + str(model.model_fields[field].description)
    return f"{variable(vendor, field)}={raw!r}: {rule}"
