# The Glue catalog, the Athena workgroup and the history and query policies, asserted at plan
# time with the mocked provider. Column types are checked against the code's schemas by
# marketdata_tests/test_infra.py.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

# The datasets Athena catalogues and the history job's datasets (one object per session or per
# month), as the registry lists them (marketdata_assets/lake/datasets.py, through datasets.json).
variables {
  datasets = toset([for name, d in jsondecode(file("datasets.json")).datasets : name if d.catalogued])
  history  = [for name, d in jsondecode(file("datasets.json")).datasets : name if contains(["day", "month"], d.grain)]
  bucket   = "arn:aws:s3:::marketdata-lake-123456789012"
  glue     = "arn:aws:glue:us-east-1:123456789012"
}

run "every_daily_dataset_is_a_parquet_table_with_date_projection" {
  command = plan

  assert {
    condition     = aws_glue_catalog_database.lake.name == "marketdata_lake" && output.glue_database == "marketdata_lake"
    error_message = "the lake's Glue database is <name>_lake"
  }
  assert {
    condition     = toset(keys(aws_glue_catalog_table.lake)) == var.datasets && alltrue([for name, t in aws_glue_catalog_table.lake : t.name == name && t.database_name == "marketdata_lake"])
    error_message = "one table per daily dataset Athena reads, named after it, in the lake's database"
  }
  assert {
    condition = alltrue([
      for name, t in aws_glue_catalog_table.lake : alltrue([
        t.parameters["projection.enabled"] == "true",
        t.parameters["projection.date.type"] == "date",
        t.parameters["projection.date.format"] == "yyyy-MM-dd",
        t.parameters["projection.date.range"] == "2010-01-04,NOW",
        t.parameters["projection.date.interval"] == "1",
        t.parameters["projection.date.interval.unit"] == "DAYS",
      ])
    ])
    error_message = "every table projects its date partitions: yyyy-MM-dd days from 2010-01-04 to now"
  }
  assert {
    condition = alltrue([
      for name, t in aws_glue_catalog_table.lake :
      t.parameters["storage.location.template"] == "s3://marketdata-lake-123456789012/${name}/date=$${date}/" &&
      one(t.storage_descriptor).location == "s3://marketdata-lake-123456789012/${name}/"
    ])
    error_message = "each table reads <bucket>/<dataset>/date=<date>/, the lake's own key layout"
  }
  assert {
    condition     = alltrue([for t in aws_glue_catalog_table.lake : [for k in t.partition_keys : [k.name, k.type]] == [["date", "string"]]])
    error_message = "the only partition key is date, a string"
  }
  assert {
    condition = alltrue([
      for t in aws_glue_catalog_table.lake :
      t.table_type == "EXTERNAL_TABLE" &&
      one(one(t.storage_descriptor).ser_de_info).serialization_library == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" &&
      one(t.storage_descriptor).input_format == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    ])
    error_message = "every table is an external Parquet table"
  }
  assert {
    condition     = [for c in one(aws_glue_catalog_table.lake["bars_quarantine"].storage_descriptor).columns : c.type if c.name == "reasons"] == ["array<string>"]
    error_message = "bars_quarantine's reasons are a list of reason codes"
  }
}

run "workgroup_enforces_encrypted_results_in_the_lake_and_a_scan_cutoff" {
  command = plan

  assert {
    condition     = aws_athena_workgroup.analytics.name == "marketdata-analytics" && output.athena_workgroup == "marketdata-analytics"
    error_message = "the workgroup is <name>-analytics"
  }
  assert {
    condition     = one(aws_athena_workgroup.analytics.configuration).enforce_workgroup_configuration
    error_message = "clients cannot override the workgroup's settings"
  }
  assert {
    condition     = one(aws_athena_workgroup.analytics.configuration).bytes_scanned_cutoff_per_query == 1073741824
    error_message = "a query is cancelled after 1 GiB scanned by default"
  }
  assert {
    condition = alltrue([
      one(one(aws_athena_workgroup.analytics.configuration).result_configuration).output_location == "s3://marketdata-lake-123456789012/athena-results/",
      one(one(one(aws_athena_workgroup.analytics.configuration).result_configuration).encryption_configuration).encryption_option == "SSE_S3",
      one(one(aws_athena_workgroup.analytics.configuration).result_configuration).expected_bucket_owner == "123456789012",
    ])
    error_message = "results go, encrypted, to athena-results/ in this account's lake"
  }
  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.lake.rule : [one(r.filter).prefix, one(r.expiration).days] if r.id == "athena-results"] == [["athena-results/", 7]]
    error_message = "query results expire after 7 days by default"
  }
}

run "scan_cutoff_and_results_expiry_are_variables" {
  command = plan
  variables {
    athena_bytes_scanned_cutoff = 10485760
    athena_results_expiry_days  = 2
  }

  assert {
    condition     = one(aws_athena_workgroup.analytics.configuration).bytes_scanned_cutoff_per_query == 10485760
    error_message = "the cutoff follows athena_bytes_scanned_cutoff"
  }
  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.lake.rule : one(r.expiration).days if r.id == "athena-results"] == [2]
    error_message = "the results' expiry follows athena_results_expiry_days"
  }
}

run "a_cutoff_under_athenas_minimum_or_no_expiry_is_refused" {
  command = plan
  variables {
    athena_bytes_scanned_cutoff = 10485759
    athena_results_expiry_days  = 0
  }
  expect_failures = [var.athena_bytes_scanned_cutoff, var.athena_results_expiry_days]
}

run "history_policy_reaches_only_the_history_prefixes" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for policy in [local.history_policy, local.athena_query_policy] : [
        for s in policy.Statement : [
          for value in concat(tolist(s.Action), tolist(s.Resource)) : !can(regex("^\\*$|^[a-z0-9-]+:\\*$|^arn:aws:s3:::[^/]+/\\*$", value))
        ] if s.Effect == "Allow"
      ]
    ]))
    error_message = "no Allow may use a bare *, a service-wide action or every object of the bucket"
  }
  assert {
    condition     = toset(one([for s in local.history_policy.Statement : s.Resource if s.Sid == "HistoryObjects"])) == toset([for p in var.history : "${var.bucket}/${p}/*"])
    error_message = "objects may be read and written only under the history prefixes"
  }
  assert {
    condition = toset(flatten([
      for s in local.history_policy.Statement : s.Resource if contains(s.Action, "s3:PutObject")
    ])) == toset([for p in var.history : "${var.bucket}/${p}/*"])
    error_message = "nothing outside the history prefixes may be written (validated/ is read-only)"
  }
  assert {
    condition = toset(flatten([
      for s in local.history_policy.Statement : s.Resource if s.Sid != "HistoryListing"
    ])) == toset([for p in concat(var.history, ["validated"]) : "${var.bucket}/${p}/*"])
    error_message = "object access is the history prefixes plus validated/, nothing else"
  }
  assert {
    condition = one([for s in local.history_policy.Statement : s if s.Sid == "HistoryListing"]).Resource == [var.bucket] && toset(one([
      for s in local.history_policy.Statement : s.Condition.StringLike["s3:prefix"] if s.Sid == "HistoryListing"
    ])) == toset([for p in concat(var.history, ["validated"]) : "${p}/*"])
    error_message = "the bucket may be listed only under the prefixes the job reads"
  }
  assert {
    condition     = toset(flatten([for s in local.history_policy.Statement : s.Action])) == toset(["s3:GetObject", "s3:PutObject", "s3:ListBucket"])
    error_message = "the history job may get, put and list, nothing more (no delete)"
  }
}

run "athena_query_policy_is_scoped_to_the_workgroup_catalog_and_prefixes" {
  command = plan

  assert {
    condition = (
      one([for s in local.athena_query_policy.Statement : s.Resource if s.Sid == "Queries"]) == ["arn:aws:athena:us-east-1:123456789012:workgroup/marketdata-analytics"] &&
      toset(one([for s in local.athena_query_policy.Statement : s.Action if s.Sid == "Queries"])) == toset(["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"])
    )
    error_message = "queries may be started, read and stopped in the one workgroup only"
  }
  assert {
    condition = toset(flatten([for s in local.athena_query_policy.Statement : s.Resource if startswith(s.Sid, "Catalog")])) == toset(concat(
      ["${var.glue}:catalog", "${var.glue}:database/marketdata_lake"],
      [for t in var.datasets : "${var.glue}:table/marketdata_lake/${t}"],
    ))
    error_message = "the catalog may be read for the lake's database and its tables only"
  }
  assert {
    condition     = toset(flatten([for s in local.athena_query_policy.Statement : s.Action if startswith(s.Sid, "Catalog")])) == toset(["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"])
    error_message = "the catalog is read-only"
  }
  assert {
    condition     = toset(one([for s in local.athena_query_policy.Statement : s.Resource if s.Sid == "DatasetObjects"])) == toset([for t in var.datasets : "${var.bucket}/${t}/*"]) && one([for s in local.athena_query_policy.Statement : s.Action if s.Sid == "DatasetObjects"]) == ["s3:GetObject"]
    error_message = "the catalogued datasets are read-only"
  }
  assert {
    condition = toset(flatten([
      for s in local.athena_query_policy.Statement : s.Resource if contains(s.Action, "s3:PutObject")
    ])) == toset(["${var.bucket}/athena-results/*"])
    error_message = "query results are the only objects a reader may write"
  }
  assert {
    condition = toset(one([
      for s in local.athena_query_policy.Statement : s.Condition.StringLike["s3:prefix"] if s.Sid == "DatasetListing"
    ])) == toset([for p in concat(tolist(var.datasets), ["athena-results"]) : "${p}/*"])
    error_message = "the bucket may be listed only under the catalogued datasets and the results"
  }
  assert {
    condition = toset(flatten([for s in local.athena_query_policy.Statement : s.Action])) == toset([
      "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution",
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions",
      "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:ListBucket", "s3:GetBucketLocation",
    ])
    error_message = "a reader has exactly the actions an Athena query needs"
  }
  assert {
    condition     = aws_iam_policy.athena_query.name == "marketdata-athena-query" && aws_iam_policy.history.name == "marketdata-history"
    error_message = "both policies are managed policies, to attach to a role"
  }
}
