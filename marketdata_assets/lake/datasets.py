"""The dataset registry: every lake dataset defined once, read by the keys, the codecs, the
contracts, the Dagster assets, the docs and Terraform (through the generated infra/datasets.json).

A dataset is its name (its key prefix), its grain (one object per tick minute, per NYSE
session or per calendar month), its codec, its object's file name (a `.gz` name: the codec's
bytes gzip-compressed; `legacy_files`: the names objects written before had, which readers still
find), the Dagster asset that writes it, the columns its objects are sorted by, its columns
(tables only: `lake.schemas`, whence its Arrow schema, pandas dtypes and Glue types), whether
Athena catalogues it, its role and a one-line description.

Terraform reads it from infra/datasets.json, which `lake.terraform` writes: regenerate it after
changing the registry with `python -m marketdata_assets.lake.terraform --write`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from marketdata_assets.lake import schemas

if TYPE_CHECKING:
    import pyarrow as pa

# minute: one object per tick; day: one per NYSE session; month: one per calendar month holding
# its sessions' objects compacted (read in their place while current: `history.compacted`).
Grain = Literal["minute", "day", "month"]
Codec = Literal["bytes", "parquet", "json"]
# data: what readers open; record: a run's own record; state: what the platform keeps to decide
# later runs (the gate's price reference).
Role = Literal["data", "record", "state"]


@dataclass(frozen=True)
class Dataset:
    """One lake dataset (see the module's docstring)."""

    name: str
    grain: Grain
    codec: Codec
    file: str
    asset: str | None = None
    sort_by: tuple[str, ...] = ()
    columns: schemas.Table = ()  # a table's columns (none for bytes and JSON)
    catalogued: bool = False
    role: Role = "data"
    description: str = ""
    legacy_files: tuple[str, ...] = ()  # earlier names of its objects, still read
    # A `.gz` object's zlib level (bench/README.md, "Raw stored compressed"); None otherwise.
    gzip_level: int | None = None

    @property
    def files(self) -> tuple[str, ...]:
        """Every name an object of the dataset may have: the one written now first."""
        return (self.file, *self.legacy_files)

    @property
    def prefix(self) -> str:
        """The folder every object of the dataset lies under."""
        return f"{self.name}/"

    @property
    def schema(self) -> pa.Schema | None:
        """A table's Arrow schema, each field described in its metadata (None: not a table)."""
        return schemas.arrow_schema(self.columns) if self.columns else None

    @property
    def dtypes(self) -> dict[str, str]:
        """Column -> pandas dtype of the dataset's frames (empty for bytes and JSON)."""
        return schemas.pandas_dtypes(self.columns)


_BARS_ORDER = ("symbol", "start")
_SESSION_ORDER = ("symbol", "session")

REGISTRY: tuple[Dataset, ...] = (
    # the minute tick
    Dataset("raw", "minute", "bytes", "ticks.jsonl.gz", "raw_ticks", gzip_level=6,
            description="Each tick's provider responses exactly as received (JSON Lines, "
            "gzip-compressed; objects written before as ticks.jsonl, uncompressed).",
            legacy_files=("ticks.jsonl",)),
    Dataset("curated", "minute", "parquet", "ticks.parquet", "curated_ticks",
            columns=schemas.CURATED_TICKS,
            description="Each tick's raw records standardised: one row per raw record."),
    Dataset("validated", "minute", "parquet", "ticks.parquet", "validated_ticks",
            columns=schemas.VALIDATED_TICKS,
            description="The curated rows that passed the tick gate."),
    Dataset("quarantine", "minute", "parquet", "ticks.parquet", "quarantined_ticks",
            columns=schemas.QUARANTINED_TICKS,
            description="The curated rows the tick gate refused, with every reason."),
    Dataset("reference", "minute", "parquet", "reference.parquet", "price_reference",
            columns=schemas.PRICE_REFERENCE, role="state",
            description="The gate's as-of price reference after each tick."),
    Dataset("runs", "minute", "json", "run.json", role="record",
            description="Every tick's run record (CLI or Lambda): outcome, counts, checks."),
    # history: one object per NYSE session
    Dataset("raw_history", "day", "bytes", "part.jsonl.gz", "raw_history",
            description="Each session's history responses exactly as received (gzip-compressed; "
            "objects written before as part.jsonl, uncompressed).",
            legacy_files=("part.jsonl",), gzip_level=1),
    Dataset("minute_bars", "day", "parquet", "part.parquet", "minute_bars", _BARS_ORDER,
            schemas.MINUTE_BARS, catalogued=True,
            description="1-minute OHLCV bars that passed the bars gate, one object per NYSE "
            "session."),
    Dataset("bars_quarantine", "day", "parquet", "part.parquet", "bars_quarantine", _BARS_ORDER,
            schemas.BARS_QUARANTINE, catalogued=True,
            description="History rows the bars gate refused, as read, with their reason codes."),
    Dataset("daily_bars", "day", "parquet", "part.parquet", "daily_bars", _SESSION_ORDER,
            schemas.DAILY_BARS, catalogued=True,
            description="One row per symbol and session: OHLC, volume, VWAP, minutes present."),
    Dataset("session_analytics", "day", "parquet", "part.parquet", "session_analytics",
            _SESSION_ORDER, schemas.SESSION_ANALYTICS, catalogued=True,
            description="One row per symbol and session: returns, realised volatility, range, "
            "VWAP gap."),
    Dataset("validated_daily", "day", "parquet", "part.parquet", "validated_daily",
            ("symbol", "event_ts"), schemas.VALIDATED_TICKS, catalogued=True,
            description="The minute tick's validated prices, compacted per NYSE session."),
    Dataset("minute_bars_monthly", "month", "parquet", "part.parquet", "minute_bars_monthly",
            _BARS_ORDER, schemas.MINUTE_BARS,
            description="A month's minute_bars session objects compacted into one, one row group "
            "per symbol, with the versions of the objects it holds; read in their place while "
            "they are unchanged."),
    Dataset("corporate_actions", "day", "parquet", "part.parquet", "corporate_actions",
            ("symbol", "ex_date", "kind"), schemas.CORPORATE_ACTIONS, catalogued=True,
            description="Splits and dividends that passed the actions gate, one object per "
            "ex-date session."),
    Dataset("actions_quarantine", "day", "parquet", "part.parquet", "actions_quarantine",
            ("session", "row"), schemas.ACTIONS_QUARANTINE, catalogued=True,
            description="Corporate-action rows the actions gate refused, as read, with their "
            "reason codes."),
    # forecasts: the walk-forward's skill table and the served forecasts, as of each session
    Dataset("forecast_skill", "day", "parquet", "part.parquet", "forecast_skill",
            ("symbol", "horizon", "model"), schemas.FORECAST_SKILL, catalogued=True,
            description="Each model's out-of-sample skill per symbol and horizon."),
    Dataset("price_forecasts", "day", "parquet", "part.parquet", "price_forecasts",
            ("symbol", "horizon"), schemas.PRICE_FORECASTS, catalogued=True,
            description="The forecasts served per symbol and horizon, with their model's skill."),
)  # fmt: skip
# The registry itself: every lookup reads it when called, so an entry added here is seen by the
# keys, the codecs, the IO managers and the generated Terraform file alike.
DATASETS: dict[str, Dataset] = {d.name: d for d in REGISTRY}
# The minute datasets the tick graph writes (its run record is written beside them, not by it).
MINUTE_DATASETS = tuple(d.name for d in REGISTRY if d.grain == "minute" and d.asset)
DAY_DATASETS = tuple(d.name for d in REGISTRY if d.grain == "day")
MONTH_DATASETS = tuple(d.name for d in REGISTRY if d.grain == "month")


def registry() -> tuple[Dataset, ...]:
    """Every registered dataset, in registration order."""
    return tuple(DATASETS.values())


def dataset(name: str, grain: Grain | None = None) -> Dataset:
    """The registered dataset `name` (of `grain`, when given); anything else is a ValueError."""
    found = DATASETS.get(name)
    if found is None or (grain is not None and found.grain != grain):
        names = [d.name for d in registry() if grain is None or d.grain == grain]
        raise ValueError(f"dataset {name!r}: must be one of {', '.join(names)}")
    return found


def columns_of(name: str) -> schemas.Table:
    """The columns of the table dataset `name`."""
    found = dataset(name)
    if not found.columns:
        raise ValueError(f"dataset {name!r}: a {found.codec} dataset has no columns")
    return found.columns


def dataset_of_asset(asset: str) -> Dataset:
    """The dataset the Dagster asset `asset` writes."""
    found = next((d for d in DATASETS.values() if d.asset == asset), None)
    if found is None:
        raise ValueError(f"asset {asset!r} writes no lake dataset")
    return found


def dataset_columns(name: str) -> list[tuple[str, str, str]]:
    """(column, Arrow type, description) of every column of the dataset `name`, in order (none
    for bytes and JSON datasets); what the assets publish as their column schema."""
    return [(c.name, c.type, c.description) for c in dataset(name).columns]
