"""Each asset publishes its dataset's columns (`dagster/column_schema`) from the dataset
registry, so the catalog shows what the lake holds and the two never drift apart."""

from collections.abc import Sequence

from dagster import AssetsDefinition, AssetSpec, TableColumn, TableSchema, map_asset_specs

from marketdata_assets.lake.datasets import dataset_columns, dataset_of_asset

COLUMN_SCHEMA = "dagster/column_schema"


def column_schema(asset: str) -> TableSchema | None:
    """The columns of the dataset `asset` writes; None when it writes none, or bytes/JSON."""
    try:
        name = dataset_of_asset(asset).name
    except ValueError:  # latest_prices writes the latest-price table, not a lake dataset
        return None
    columns = [TableColumn(n, t, description=d) for n, t, d in dataset_columns(name)]
    return TableSchema(columns=columns) if columns else None


def _published(spec: AssetSpec) -> AssetSpec:
    schema = column_schema(spec.key.to_user_string())
    return spec if schema is None else spec.merge_attributes(metadata={COLUMN_SCHEMA: schema})


def with_column_schemas(assets: Sequence[AssetsDefinition]) -> list[AssetsDefinition]:
    """`assets`, each spec carrying its dataset's column schema."""
    return list(map_asset_specs(_published, assets))
