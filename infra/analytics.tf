locals {
  catalog_database = replace("${var.name}_lake", "-", "_") # Athena names: lower case, digits, _
  athena_workgroup = "${var.name}-analytics"
  athena_results   = "athena-results"

  # The datasets Athena reads (catalogued in the registry), column by column as the code writes
  # them: their Glue types and partition keys come from datasets.json (storage.tf). UTC and naive
  # timestamps are both `timestamp`; `session` and `trading_day` are a date at midnight.
  catalog_tables = {
    for name, d in local.datasets : name => {
      prefix         = d.prefix
      description    = d.description
      columns        = d.columns
      partition_keys = d.partition_keys
    } if d.catalogued
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
    "storage.location.template"     = "s3://${local.bucket_name}/${each.value.prefix}date=$${date}/"
  }

  dynamic "partition_keys" {
    for_each = each.value.partition_keys
    content {
      name    = partition_keys.value[0]
      type    = partition_keys.value[1]
      comment = partition_keys.value[2]
    }
  }

  storage_descriptor {
    location      = "s3://${local.bucket_name}/${each.value.prefix}"
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
