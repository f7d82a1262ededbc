"""The dataset registry: every dataset defined once, and everything else following it (keys,
codecs, contracts, the column schema the assets publish, the Terraform file), checked by
iterating the registry rather than a hand-typed list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from marketdata_assets.forecasting.evaluation import walk_forward
from marketdata_assets.forecasting.panel import panel_from_bars
from marketdata_assets.forecasting.serving import forecast, served_table
from marketdata_assets.forecasting.windows import MIN_ORIGINS, MIN_TRAINING_SESSIONS
from marketdata_assets.lake import terraform
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.lake.datasets import DATASETS, dataset_columns, dataset_of_asset, registry
from marketdata_assets.lake.keys import day_key, month_key, object_key
from marketdata_assets.lake.schemas import (
    BAR_SCHEMA,
    Table,
    arrow_schema,
    dtype_violations,
    glue_columns,
    pandas_dtypes,
)
from marketdata_assets.market.calendar import session_minutes, sessions_in
from marketdata_assets.settings import Settings
from marketdata_assets.stores import lake_store

TICK = datetime(2026, 11, 25, 14, 31, tzinfo=UTC)
SESSION = date(2026, 11, 25)
TABLES = [d.name for d in registry() if d.columns]
# One value of each column type, and a second row's (null where the column may be null).
VALUES: dict[str, tuple[object, object]] = {
    "string": ("AAPL", "MSFT"),
    "int64": (1, 2),
    "double": (1.5, 2.5),
    "bool": (True, False),
    "timestamp[us, tz=UTC]": (TICK, TICK),
    "timestamp[us]": (datetime(2026, 11, 25), datetime(2026, 11, 26)),
    "list<string>": (["price_invalid"], ["duplicate", "price_jump"]),
}


def sample(columns: Table) -> pd.DataFrame:
    """Two rows of every column, the second null wherever the column may be null."""
    rows = {c.name: [VALUES[c.type][0], None if c.nullable else VALUES[c.type][1]] for c in columns}
    dtypes = pandas_dtypes(columns)
    return pd.DataFrame(rows).astype({name: dt for name, dt in dtypes.items() if dt != "object"})


@pytest.mark.domain
def test_the_committed_terraform_file_is_the_registrys() -> None:
    assert terraform.TERRAFORM_FILE.read_text() == terraform.terraform_json(), (
        f"{terraform.TERRAFORM_FILE} is stale: run {terraform.WRITE_COMMAND}"
    )


@pytest.mark.domain
def test_a_stale_terraform_file_fails_the_check_naming_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "datasets.json"
    monkeypatch.setattr(terraform, "TERRAFORM_FILE", stale)
    assert terraform.main(["--check"]) == 1  # missing
    assert terraform.main(["--write"]) == 0 and terraform.main(["--check"]) == 0
    stale.write_text(stale.read_text().replace('"bigint"', '"int"', 1))
    assert terraform.main(["--check"]) == 1
    assert "python -m marketdata_assets.lake.terraform --write" in capsys.readouterr().err


@pytest.mark.domain
def test_every_dataset_keys_its_objects_under_its_prefix_by_its_grain() -> None:
    builders = {
        "minute": (lambda name: object_key(name, TICK), "date=2026-11-25/minute=1431"),
        "day": (lambda name: day_key(name, SESSION), "date=2026-11-25"),
        "month": (lambda name: month_key(name, SESSION), "month=2026-11"),
    }
    for d in registry():
        build, middle = builders[d.grain]
        assert build(d.name) == f"{d.prefix}{middle}/{d.file}", d.name
        for grain, (other, _) in builders.items():
            if grain != d.grain:
                with pytest.raises(ValueError, match=f"dataset '{d.name}': must be one of"):
                    other(d.name)


@pytest.mark.domain
def test_every_asset_writes_exactly_one_dataset() -> None:
    assets = [d.asset for d in registry() if d.asset]
    assert len(assets) == len(set(assets))
    for d in registry():
        if d.asset:
            assert dataset_of_asset(d.asset) is d
    with pytest.raises(ValueError, match="asset 'latest_prices' writes no lake dataset"):
        dataset_of_asset("latest_prices")


@pytest.mark.domain
def test_tables_are_parquet_and_sorted_by_their_own_columns() -> None:
    for d in registry():
        assert d.codec == "parquet" or not d.columns, d.name
        assert set(d.sort_by) <= set(d.dtypes) or not d.columns, d.name
        assert d.prefix == f"{d.name}/" and "/" not in d.name, d.name


@pytest.mark.domain
@pytest.mark.parametrize("name", TABLES)
def test_every_table_round_trips_through_its_codec_with_the_registrys_dtypes(name: str) -> None:
    spec = DATASETS[name]
    frame = sample(spec.columns)
    assert dtype_violations(frame, spec.columns) == []
    back = decode(name, encode(name, frame))
    assert isinstance(back, pd.DataFrame)
    assert {c: str(t) for c, t in back.dtypes.items()} == spec.dtypes
    expected = frame.sort_values(list(spec.sort_by), kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(back, expected if spec.sort_by else frame)


@pytest.mark.domain
@pytest.mark.parametrize("name", TABLES)
def test_a_frame_of_another_schema_is_never_written(name: str) -> None:
    spec = DATASETS[name]
    first = spec.columns[0]
    typed = next(c for c in spec.columns if c.type != "string")
    with pytest.raises(TypeError, match=f"{name} objects hold the {name} schema: missing column"):
        encode(name, sample(spec.columns).drop(columns=[first.name]))
    with pytest.raises(TypeError, match=f"column {typed.name} is str, expected"):
        encode(name, sample(spec.columns).assign(**{typed.name: "text"}))
    with pytest.raises(TypeError, match="unexpected column extra"):
        encode(name, sample(spec.columns).assign(extra=1))


@pytest.mark.domain
@pytest.mark.parametrize("name", TABLES)
def test_every_column_is_described_for_the_assets_column_schema(name: str) -> None:
    columns = dataset_columns(name)
    schema = DATASETS[name].schema
    assert schema is not None
    assert [c for c, _, _ in columns] == schema.names == list(DATASETS[name].dtypes)
    assert all(description.strip() for _, _, description in columns), name
    described = arrow_schema(DATASETS[name].columns)
    assert [f.metadata[b"description"].decode() for f in described] == [d for *_, d in columns]
    assert arrow_schema(DATASETS[name].columns, described=False).equals(schema)


@pytest.mark.domain
def test_what_terraform_reads_follows_the_registry() -> None:
    generated = terraform.terraform_datasets()["datasets"]
    assert isinstance(generated, dict)
    assert list(generated) == [d.name for d in registry()]
    for d in registry():
        entry = generated[d.name]
        assert (entry["prefix"], entry["grain"], entry["catalogued"]) == (
            d.prefix,
            d.grain,
            d.catalogued,
        )
        assert entry["columns"] == glue_columns(d.columns)
        keys = {"minute": ["date", "minute"], "day": ["date"], "month": ["month"]}
        assert [k[0] for k in entry["partition_keys"]] == keys[d.grain]
        if d.catalogued:  # Athena reads daily Parquet tables, one folder per session
            assert d.grain == "day" and d.codec == "parquet" and entry["columns"], d.name


# How Athena reads the Parquet column of each pandas dtype the lake writes.
ATHENA_TYPES = {
    "str": "string",
    "int64": "bigint",
    "Int64": "bigint",
    "float64": "double",
    "bool": "boolean",
    "datetime64[us, UTC]": "timestamp",
    "datetime64[us]": "timestamp",
}


@pytest.mark.domain
def test_catalogued_columns_have_the_athena_type_of_the_dtype_the_lake_writes() -> None:
    for d in registry():
        if d.catalogued:
            expected = [
                [name, "array<string>" if name == "reasons" else ATHENA_TYPES[dtype]]
                for name, dtype in d.dtypes.items()
            ]
            assert glue_columns(d.columns) == expected, d.name


@pytest.mark.domain
def test_the_forecast_tables_keep_their_schema_with_nothing_forecast_or_measured() -> None:
    """A walk-forward that made no forecast (each session holds only its closing bar, so no
    minute target lies inside one) still gives a typed skill table; a forecast served without a
    skill row keeps `n` an integer (0 forecasts measured, coverage null); so does serving none."""
    held = MIN_TRAINING_SESSIONS + MIN_ORIGINS  # the least a walk-forward evaluates
    days = sessions_in(SESSION - timedelta(days=30), SESSION)[-held:]
    closing = [session_minutes(day)[-1] for day in days]
    bars = pd.DataFrame(
        {"symbol": "AAPL", "start": closing, "interval": "1m", "volume": 100, "source": "test"}
    ).assign(open=100.0, high=100.0, low=100.0, close=100.0)
    panel = panel_from_bars(bars.astype(BAR_SCHEMA))
    evaluation = walk_forward(panel, MIN_ORIGINS, ("1m", "5m", "15m"), models=["naive"])
    assert evaluation.forecasts.empty and evaluation.skill.empty
    served = served_table([forecast(panel, "AAPL", "5m", evaluation)], evaluation.skill)
    assert served[["served_model", "n"]].to_dict("records") == [{"served_model": "naive", "n": 0}]
    assert served["coverage"].isna().all()
    tables = {
        "forecast_skill": [evaluation.skill],
        "price_forecasts": [served, served_table([], evaluation.skill)],
    }
    for name, frames in tables.items():
        for frame in frames:
            assert dtype_violations(frame, DATASETS[name].columns) == [], name
            back = decode(name, encode(name, frame))
            assert isinstance(back, pd.DataFrame) and len(back) == len(frame)
            assert {c: str(t) for c, t in back.dtypes.items()} == DATASETS[name].dtypes, name


@pytest.mark.graph
def test_every_object_a_tick_and_a_backfill_store_holds_its_registered_schema(
    tmp_path: Path,
) -> None:
    from dagster import materialize

    from marketdata_assets.definitions import build_definitions
    from marketdata_assets.execution import backfill
    from marketdata_assets.execution.tick import run_tick

    settings = Settings(data_dir=tmp_path / "data", symbols=("AAPL", "MSFT"), fault_rate=0.3)
    first, last = date(2025, 11, 24), date(2025, 11, 26)
    run_tick(settings, datetime(2025, 11, 25, 15, 0, tzinfo=UTC))
    backfill.run(settings, backfill.plan(settings, first, last, None, "stub", None, False))
    defs = build_definitions(settings)
    for compaction in ("validated_daily", "minute_bars_monthly"):
        folded = materialize(
            [defs.get_assets_def(compaction)],
            partition_key="2025-11-25",
            resources=defs.resources,
            selection=[compaction],
        )
        assert folded.success
    lake, seen = lake_store(settings), set()
    for name in TABLES:
        for key in lake.keys(DATASETS[name].prefix):
            frame = decode(name, lake.get(key))
            assert isinstance(frame, pd.DataFrame)
            assert dtype_violations(frame, DATASETS[name].columns) == [], key
            seen.add(name)
    assert seen >= {"curated", "validated", "quarantine", "reference", "minute_bars"}
    assert seen >= {"daily_bars", "session_analytics", "validated_daily", "minute_bars_monthly"}


@pytest.mark.domain
def test_every_gzip_dataset_names_its_level_and_no_other_does() -> None:
    from marketdata_assets.lake.datasets import REGISTRY

    for entry in REGISTRY:
        if entry.file.endswith(".gz"):
            assert entry.gzip_level in range(1, 10), entry.name
        else:
            assert entry.gzip_level is None, entry.name
