locals {
  catalog_database = replace("${var.name}_lake", "-", "_") # Athena names: lower case, digits, _
  athena_workgroup = "${var.name}-analytics"
  athena_results   = "athena-results"

  # The daily Parquet datasets Athena reads, column by column as the code writes them
  # (marketdata_assets/market/records.py; validated_daily: gate/routing.py VALIDATED_COLUMNS with
  # curation.py CURATED_SCHEMA's dtypes). UTC and naive timestamps are both `timestamp`;
  # `session` and `trading_day` are a date at midnight. `date` is the partition key, not a column.
  catalog_tables = {
    minute_bars = {
      description = "1-minute OHLCV bars that passed the bars gate, one object per NYSE session."
      columns = [
        ["symbol", "string"], ["start", "timestamp"], ["interval", "string"],
        ["open", "double"], ["high", "double"], ["low", "double"], ["close", "double"],
        ["volume", "bigint"], ["source", "string"],
      ]
    }
    bars_quarantine = {
      description = "History rows the bars gate refused, as read, with their reason codes."
      columns = [
        ["row", "bigint"], ["symbol", "string"], ["start", "timestamp"], ["interval", "string"],
        ["open", "double"], ["high", "double"], ["low", "double"], ["close", "double"],
        ["volume", "double"], ["source", "string"], ["raw", "string"], ["problem", "string"],
        ["reasons", "array<string>"],
      ]
    }
    daily_bars = {
      description = "One row per symbol and session: OHLC, volume, VWAP, minutes present."
      columns = [
        ["symbol", "string"], ["session", "timestamp"],
        ["open", "double"], ["high", "double"], ["low", "double"], ["close", "double"],
        ["volume", "bigint"], ["vwap", "double"], ["minutes", "bigint"],
        ["first_minute", "timestamp"], ["last_minute", "timestamp"], ["source", "string"],
      ]
    }
    session_analytics = {
      description = "One row per symbol and session: returns, realised volatility, range, VWAP gap."
      columns = [
        ["symbol", "string"], ["session", "timestamp"],
        ["open", "double"], ["high", "double"], ["low", "double"], ["close", "double"],
        ["volume", "bigint"], ["vwap", "double"], ["return", "double"],
        ["overnight_return", "double"], ["realized_vol", "double"], ["range", "double"],
        ["close_vs_vwap", "double"], ["rolling_vol_20", "double"],
      ]
    }
    validated_daily = {
      description = "The minute tick's validated prices, compacted per NYSE session."
      columns = [
        ["line", "bigint"], ["symbol", "string"], ["price", "double"], ["day_volume", "bigint"],
        ["currency", "string"], ["event_ts", "timestamp"], ["exchange", "string"],
        ["exchange_tz", "string"], ["trading_day", "timestamp"], ["tick", "timestamp"],
      ]
    }
  }
}

resource "aws_glue_catalog_database" "lake" {
  name        = local.catalog_database
  description = "The lake's daily datasets (s3://${local.bucket_name}/), for Athena."
}

# Partition projection: Athena derives each day's prefix from the query's `date` predicate, so
# no crawler and no partition to register after a backfill. Days without a session
# (weekends, holidays) simply have no objects.
resource "aws_glue_catalog_table" "lake" {
  for_each = local.catalog_tables

  name          = each.key
  database_name = aws_glue_catalog_database.lake.name
  description   = each.value.description
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL                        = "TRUE"
    classification                  = "parquet"
    "projection.enabled"            = "true"
    "projection.date.type"          = "date"
    "projection.date.format"        = "yyyy-MM-dd"
    "projection.date.range"         = "2010-01-04,NOW"
    "projection.date.interval"      = "1"
    "projection.date.interval.unit" = "DAYS"
    "storage.location.template"     = "s3://${local.bucket_name}/${each.key}/date=$${date}/"
  }

  partition_keys {
    name    = "date"
    type    = "string"
    comment = "The NYSE session, YYYY-MM-DD (New York)."
  }

  storage_descriptor {
    location      = "s3://${local.bucket_name}/${each.key}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters            = { "serialization.format" = "1" }
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name = columns.value[0]
        type = columns.value[1]
      }
    }
  }
}

# Enforced, so a client cannot send results elsewhere, skip their encryption or lift the cutoff.
resource "aws_athena_workgroup" "analytics" {
  name = local.athena_workgroup

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location       = "s3://${local.bucket_name}/${local.athena_results}/"
      expected_bucket_owner = data.aws_caller_identity.current.account_id

      # SSE-KMS here needs a key ARN; SSE-S3 encrypts results without a $1/month CMK.
      encryption_configuration {
        encryption_option = "SSE_S3"
      }
    }
  }
}
