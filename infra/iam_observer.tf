# A managed policy to attach to whatever watches production ticks: a Dagster deployment whose
# production_ticks_sensor reports the Lambda's run records and whose freshness_job scans the
# latest-price table, or an operator running `marketdata status`. Records live under runs/ and
# name the tick's objects, which the watcher may open. Read-only: no put, no delete.
locals {
  observed_prefixes = concat(["runs"], local.tick_datasets)

  ticks_observer_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "TickObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [for prefix in local.observed_prefixes : "${aws_s3_bucket.lake.arn}/${prefix}/*"]
      },
      {
        Sid       = "TickListing"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [aws_s3_bucket.lake.arn]
        Condition = { StringLike = { "s3:prefix" = [for prefix in local.observed_prefixes : "${prefix}/*"] } }
      },
      {
        Sid      = "LatestPrices"
        Effect   = "Allow"
        Action   = ["dynamodb:Scan"]
        Resource = [aws_dynamodb_table.latest_prices.arn]
      },
    ]
  }
}

resource "aws_iam_policy" "ticks_observer" {
  name        = "${var.name}-ticks-observer"
  description = "Read the production ticks' run records (runs/), the tick datasets they name, and the latest prices."
  policy      = jsonencode(local.ticks_observer_policy)
}
