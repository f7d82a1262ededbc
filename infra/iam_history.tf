# Managed policies to attach, not roles: what runs the history job (a Dagster deployment, an
# ECS task, an operator's session) is not part of this stack, so the trust policy belongs with
# it. Attach `history` to that principal and `athena_query` to whoever reads through Athena.
# Every action below takes resource-level permissions, so no statement needs a "*" resource.
locals {
  lake_objects         = "${aws_s3_bucket.lake.arn}/"
  athena_workgroup_arn = "arn:aws:athena:${var.region}:${data.aws_caller_identity.current.account_id}:workgroup/${local.athena_workgroup}"
  glue_arn             = "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}"

  # Read and write the daily datasets; read the minute tick's validated objects it compacts.
  history_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "HistoryObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = [for prefix in local.history_prefixes : "${local.lake_objects}${prefix}/*"]
      },
      {
        Sid      = "ValidatedTicks"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${local.lake_objects}validated/*"]
      },
      {
        Sid       = "HistoryListing"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [aws_s3_bucket.lake.arn]
        Condition = { StringLike = { "s3:prefix" = [for prefix in concat(local.history_prefixes, ["validated"]) : "${prefix}/*"] } }
      },
    ]
  }

  # Run queries in the one workgroup, read the catalogued datasets, write and read results.
  athena_query_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Queries"
        Effect   = "Allow"
        Action   = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"]
        Resource = [local.athena_workgroup_arn]
      },
      {
        Sid      = "Catalog"
        Effect   = "Allow"
        Action   = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
        Resource = ["${local.glue_arn}:catalog", "${local.glue_arn}:database/${local.catalog_database}"]
      },
      {
        Sid      = "CatalogTables"
        Effect   = "Allow"
        Action   = ["glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
        Resource = [for table in keys(local.catalog_tables) : "${local.glue_arn}:table/${local.catalog_database}/${table}"]
      },
      {
        Sid      = "DatasetObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [for table in keys(local.catalog_tables) : "${local.lake_objects}${table}/*"]
      },
      {
        Sid      = "QueryResults"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
        Resource = ["${local.lake_objects}${local.athena_results}/*"]
      },
      {
        Sid       = "DatasetListing"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [aws_s3_bucket.lake.arn]
        Condition = { StringLike = { "s3:prefix" = [for prefix in concat(keys(local.catalog_tables), [local.athena_results]) : "${prefix}/*"] } }
      },
      {
        Sid      = "BucketLocation"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation"]
        Resource = [aws_s3_bucket.lake.arn]
      },
    ]
  }
}

resource "aws_iam_policy" "history" {
  name        = "${var.name}-history"
  description = "What the history job needs: the daily datasets' prefixes, and validated/ read-only."
  policy      = jsonencode(local.history_policy)
}

resource "aws_iam_policy" "athena_query" {
  name        = "${var.name}-athena-query"
  description = "Read-only Athena queries over the lake's catalogued daily datasets."
  policy      = jsonencode(local.athena_query_policy)
}
