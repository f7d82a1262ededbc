"""Configuration, read from the environment in exactly one place.

pydantic-settings parses and validates; a broken rule becomes one ConfigError line naming the
variable (or the CLI flag), the value and the rule. Two classes, so that a command reads only
what it uses: `StorageSettings` says where the lake and the latest-price table live (all the
read commands need), `Settings` adds what a tick needs (provider, symbols, gate policy…).

Each vendor's own settings are a section, `Settings.providers.<vendor>`: the vendor's package
declares its model (`operations.sections.ProviderSection`, each field's `validation_alias` its
variable) and the provider registry registers it when the package is imported. So this module
names no vendor and imports no provider: the registry composes the sections into it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from marketdata_assets.errors import ConfigError
from marketdata_assets.market.symbols import SYMBOL_PATTERN, is_symbol
from marketdata_assets.operations.sections import (
    PREFIX,
    ProviderSections,
    section_values,
    tick_providers,
    validated_sections,
)
from marketdata_assets.operations.time_budget import FETCH_DEADLINE_S

DEFAULT_SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM", "V", "KO")
PROFILES = ("local", "aws")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FETCH_CONCURRENCY = 64
MAX_FETCH_CONCURRENCY = 256
MAX_BACKFILL_CONCURRENCY = 64


def parse_symbols(text: str, source: str = "MARKETDATA_SYMBOLS") -> tuple[str, ...]:
    """Split a comma-separated symbol list, upper-case it and check every symbol's shape."""
    try:
        return _symbols(text)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None


def _symbols(value: str | Iterable[str]) -> tuple[str, ...]:
    parts = value.split(",") if isinstance(value, str) else value
    symbols = tuple(dict.fromkeys(str(s).strip().upper() for s in parts if str(s).strip()))
    if not symbols:
        raise ValueError("the symbol list is empty; give at least one symbol")
    for symbol in symbols:
        if not is_symbol(symbol):
            raise ValueError(f"{symbol!r} is not a symbol (rule: {SYMBOL_PATTERN})")
    return symbols


# The Dagster instance's folder beside the data folder when DAGSTER_HOME is unset: with the
# default data folder (`data`), `.dagster_home` at the project root, the one `make dev` uses.
DEFAULT_DAGSTER_HOME = ".dagster_home"


def dagster_home(data_dir: Path) -> Path:
    """The persistent Dagster instance's folder: DAGSTER_HOME when set, else `.dagster_home`
    beside the data folder (`make dev`'s, so the CLI's runs show there)."""
    given = os.environ.get("DAGSTER_HOME")
    return Path(given).expanduser() if given else data_dir.absolute().parent / DEFAULT_DAGSTER_HOME


def dagster_home_given() -> bool:
    """Whether DAGSTER_HOME names the folder (else the default is made when missing)."""
    return bool(os.environ.get("DAGSTER_HOME"))


def aws_variables() -> dict[str, str]:
    """The AWS_* variables as boto3 and the Lambda runtime set them (region, endpoint,
    credentials, function name); boto3 reads them itself, so this says only what they are."""
    return {name: value for name, value in os.environ.items() if name.startswith("AWS_")}


@contextmanager
def patched_environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Within this block the process environment holds `values` (None: unset), restored after:
    for a sandboxed run that reads its settings as production does (`marketdata cost` runs the
    Lambda handler on an in-process moto)."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def secret(name: str, env: Mapping[str, str] | None = None) -> str:
    """A secret from the environment (or `env`), stripped; "" when unset. Never a setting, so
    never in a repr, a resource's configuration or a run's record."""
    return (os.environ if env is None else env).get(name, "").strip()


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (tests pass a dict)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]):
        super().__init__(settings_cls)
        # Names match case-insensitively (pydantic-settings' default); an empty variable counts
        # as unset, as it always has here.
        self.env_vars = {name.lower(): value for name, value in env.items() if value != ""}


class StorageSettings(BaseSettings):
    """Where the lake and the latest-price table live: all a read command needs."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
    )

    profile: Literal["local", "aws"] = Field("local", description="one of local, aws")
    data_dir: Path = Field(Path("data"), description="a folder path")
    bucket: str | None = Field(None, description="an S3 bucket name")  # aws: the lake bucket
    table: str | None = Field(None, description="a DynamoDB table name")  # aws: latest prices

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Constructing settings never reads the environment behind the caller's back: only
        # `from_env` does.
        return (init_settings,)

    @model_validator(mode="after")
    def _aws_needs_its_names(self) -> Self:
        if self.profile == "aws":
            for name, value in (("BUCKET", self.bucket), ("TABLE", self.table)):
                if not value:
                    raise ValueError(f"{PREFIX}{name}: must be set when MARKETDATA_PROFILE=aws")
        return self

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "latest_prices.sqlite"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Settings from the environment (or `env`); a broken rule is one ConfigError."""
        values = _Environment(cls, os.environ if env is None else env)()
        return cls._validated(values, {})

    def with_overrides(self, sources: Mapping[str, str] | None = None, **changes: Any) -> Self:
        """A copy with the given fields replaced (None leaves a field as it is), checked by the
        same rules; `sources` names where a change came from (`{"seed": "--seed"}`) for errors.
        """
        values = self.model_dump(exclude_unset=True)
        values.update({name: value for name, value in changes.items() if value is not None})
        return self._validated(values, sources or {})

    @classmethod
    def _validated(cls, values: dict[str, Any], sources: Mapping[str, str]) -> Self:
        try:
            return cls(**values)
        except ValidationError as error:
            raise ConfigError(_one_line(cls, error, values, sources)) from None


class Settings(StorageSettings):
    """Everything the platform reads from its environment (a tick reads all of it)."""

    # Default: the first tick provider the registry lists.
    provider: str = Field(
        default_factory=lambda: tick_providers()[0], description="one of the registered providers"
    )
    symbols: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_SYMBOLS, description="a comma-separated symbol list"
    )
    fault_rate: float = Field(
        0.0, ge=0, le=1, allow_inf_nan=False, description="a number between 0 and 1"
    )
    seed: int = Field(7, ge=0, le=2**32 - 1, description=f"a whole number from 0 to {2**32 - 1}")
    source: str | None = Field(None, description="a JSON Lines file or s3://BUCKET/KEY")
    jump_threshold: float = Field(
        0.5, ge=0, le=100, allow_inf_nan=False, description="a number between 0 and 100"
    )
    # Consecutive ticks a price must hold beyond the jump band before the gate believes it.
    jump_confirmations: int = Field(3, ge=1, le=100, description="a whole number from 1 to 100")
    quarantine_warn_share: float = Field(
        0.5, ge=0, le=1, allow_inf_nan=False, description="a number between 0 and 1"
    )
    # Dagster's console log level for in-process runs.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "WARNING", description=f"one of {', '.join(LOG_LEVELS)}"
    )
    # Seconds the tick's fetching may take; the Lambda lowers it to what its invocation has left.
    fetch_deadline_s: float = Field(
        FETCH_DEADLINE_S,
        ge=0,
        le=FETCH_DEADLINE_S,
        allow_inf_nan=False,
        description=f"a number of seconds from 0 to {FETCH_DEADLINE_S:g}",
    )
    # Requests in flight in the tick's fetch, at most (default measured: bench/README.md).
    fetch_concurrency: int = Field(
        FETCH_CONCURRENCY,
        ge=1,
        le=MAX_FETCH_CONCURRENCY,
        description=f"a whole number from 1 to {MAX_FETCH_CONCURRENCY}",
    )
    # A backfill's batches of sessions run at once, each in its own process (default: the cores
    # this process may run on, `execution.parallel.backfill_workers`).
    backfill_concurrency: int | None = Field(
        None,
        ge=1,
        le=MAX_BACKFILL_CONCURRENCY,
        description=f"a whole number from 1 to {MAX_BACKFILL_CONCURRENCY}",
    )
    # Lambda: tick even when NYSE is closed.
    always_open: bool = Field(False, description="1 or 0 (true/false, yes/no)")
    # aws profile: the request budgets of providers with a daily quota.
    budget_table: str | None = Field(None, description="a DynamoDB table name")
    # Each vendor's own settings, as its package declares them (see `ProviderSection`).
    providers: ProviderSections = Field(
        default_factory=lambda: validated_sections({}), description="each vendor's section"
    )

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbol_list(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str | list | tuple):
            return _symbols(value)
        raise ValueError("must be a comma-separated symbol list")

    @field_validator("provider", mode="before")
    @classmethod
    def _known_provider(cls, value: object) -> object:
        if value not in tick_providers():
            raise ValueError(f"must be one of {', '.join(tick_providers())}")
        return value

    @field_validator("providers", mode="before")
    @classmethod
    def _providervalidated_sections(cls, value: object) -> ProviderSections:
        return validated_sections(value)

    @field_validator("source")
    @classmethod
    def _source_shape(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("s3://"):
            bucket, _, key = value.removeprefix("s3://").partition("/")
            if not bucket or not key:
                raise ValueError("an S3 source must be s3://BUCKET/KEY")
        elif value is not None and not value.strip():
            raise ValueError("must be a JSON Lines file or s3://BUCKET/KEY")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def budget_path(self) -> Path:
        return self.data_dir / "request_budget.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        env = os.environ if env is None else env
        values = _Environment(cls, env)()
        values["providers"] = section_values(env, deployed=values.get("profile") == "aws")
        return cls._validated(values, {})

    def with_overrides(self, sources: Mapping[str, str] | None = None, **changes: Any) -> Self:
        """As StorageSettings', and `providers={vendor: {field: value}}` changes those fields
        of those sections only."""
        sections = changes.pop("providers", None)
        if sections is not None:
            current = self.model_dump(exclude_unset=True).get("providers", {})
            changes["providers"] = current | {
                vendor: current.get(vendor, {}) | dict(fields)
                for vendor, fields in sections.items()
            }
        return super().with_overrides(sources, **changes)


def _one_line(
    cls: type[StorageSettings],
    error: ValidationError,
    values: Mapping[str, Any],
    sources: Mapping[str, str],
) -> str:
    """The first broken rule as `NAME='value': must be …` (or `--flag 'value': …`)."""
    first = error.errors(include_url=False)[0]
    key = str(first["loc"][0]) if first["loc"] else None
    field = next((n for n, f in cls.model_fields.items() if key in (n, f.validation_alias)), None)
    cause = first.get("ctx", {}).get("error") if first["type"] == "value_error" else None
    if key is None or field is None or field == "providers":  # the message names them
        return str(cause or first["msg"])
    info = cls.model_fields[field]
    raw = values.get(field, values.get(str(info.validation_alias), first["input"]))
    if field in sources:
        shown = f"{sources[field]} {raw!r}"
    else:
        shown = f"{info.validation_alias or PREFIX + field.upper()}={raw!r}"
    # Our own validators say what is wrong; otherwise the field's description is the rule.
    return f"{shown}: {cause if cause is not None else 'must be ' + str(info.description)}"
