data "aws_caller_identity" "current" {}

locals {
  bucket_name = var.bucket_name != "" ? var.bucket_name : "${var.name}-lake-${data.aws_caller_identity.current.account_id}"
  # Every lake dataset, from the registry (marketdata_assets/lake/datasets.py) through the
  # generated datasets.json: regenerate it with `python -m marketdata_assets.lake.terraform --write`.
  datasets = jsondecode(file("${path.module}/datasets.json")).datasets
  # The tick's datasets (the ones a run record names), then what else the tick writes: its run
  # records and the gate's price reference (the other minute datasets), and the per-tick locks.
  tick_datasets = [for name, d in local.datasets : trimsuffix(d.prefix, "/") if d.grain == "minute" && d.role == "data"]
  lake_prefixes = concat([for name, d in local.datasets : trimsuffix(d.prefix, "/") if d.grain == "minute"], ["locks"])
  # What the tick only reads: the splits of its session (gate/splits.py), one object a session.
  tick_read_prefixes = ["corporate_actions"]
  # What the history job writes (the history and forecasts asset groups): every daily dataset,
  # one object per NYSE session, and the monthly ones that compact them.
  history_prefixes = [for name, d in local.datasets : trimsuffix(d.prefix, "/") if contains(["day", "month"], d.grain)]
}

# The lake: raw, curated, validated and quarantine objects per tick minute.
resource "aws_s3_bucket" "lake" {
  #checkov:skip=CKV_AWS_18:Access logging would double the request count of a per-minute writer; CloudTrail data events are the audit path if needed.
  #checkov:skip=CKV_AWS_144:Cross-region replication is out of scope: raw is replayable from the providers and curated data is derived.
  #checkov:skip=CKV2_AWS_62:No consumer subscribes to object events yet.
  bucket = local.bucket_name
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    # The AWS-managed KMS key with a bucket key: KMS encryption without a $1/month CMK and
    # without a KMS request per object.
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

locals {
  tls_only_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  }
}

resource "aws_s3_bucket_policy" "lake" {
  count  = var.enforce_tls_policy ? 1 : 0
  bucket = aws_s3_bucket.lake.id
  policy = jsonencode(local.tls_only_policy)

  depends_on = [aws_s3_bucket_public_access_block.lake]
}

# Rules chosen from who reads each prefix (`marketdata cost` reads them from here to price the
# storage month by month). S3 does not transition an object under 128 KB to Standard-IA (it
# would be billed as 128 KB there, and each transition costs $0.01 per 1,000 objects, which an
# object of ~80 KB or less never earns back over a year): a per-minute object under 128 KB
# stays in Standard until it expires, so expiry is what bounds the per-minute datasets. Raw is
# the one whose objects can pass 128 KB (every symbol's response in one object a tick).
resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    id     = "raw"
    status = "Enabled"
    filter {
      prefix = local.datasets.raw.prefix
    }
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    expiration {
      days = var.raw_expiry_days
    }
  }

  # Read only by the run that wrote it (the gate reads it in the same run); a replay rebuilds
  # it from raw. A week is kept for looking into a tick.
  rule {
    id     = "curated"
    status = "Enabled"
    filter {
      prefix = local.datasets.curated.prefix
    }
    expiration {
      days = var.curated_expiry_days
    }
  }

  # Read by the same session's quote, the dashboard's minute page and the session's compaction
  # into validated_daily (which keeps the rows): a month of minute pages, then it goes.
  rule {
    id     = "validated"
    status = "Enabled"
    filter {
      prefix = local.datasets.validated.prefix
    }
    expiration {
      days = var.validated_expiry_days
    }
  }

  # The gate reads the newest reference before its tick: at most the previous session's, days
  # back over a long weekend or a closure.
  rule {
    id     = "reference"
    status = "Enabled"
    filter {
      prefix = local.datasets.reference.prefix
    }
    expiration {
      days = 14
    }
  }

  # A run record is the account of its tick's raw object: kept exactly as long.
  rule {
    id     = "runs"
    status = "Enabled"
    filter {
      prefix = local.datasets.runs.prefix
    }
    expiration {
      days = var.raw_expiry_days
    }
  }

  rule {
    id     = "quarantine"
    status = "Enabled"
    filter {
      prefix = local.datasets.quarantine.prefix
    }
    expiration {
      days = 30
    }
  }

  # Query results are read once by the client that ran the query; the datasets stay in place.
  rule {
    id     = "athena-results"
    status = "Enabled"
    filter {
      prefix = "${local.athena_results}/"
    }
    expiration {
      days = var.athena_results_expiry_days
    }
  }

  # A lock is deleted when its run ends; one left by a run that died is only a stale lease.
  rule {
    id     = "locks"
    status = "Enabled"
    filter {
      prefix = "locks/"
    }
    expiration {
      days = 1
    }
  }

  rule {
    id     = "noncurrent-versions-and-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.lake]
}

# The latest-price table: one item per symbol, replaced only by a strictly newer event_ts.
# On demand by default; `latest_capacity = "provisioned"` provisions `latest_session_writes`
# write units through the session and 1 outside it (schedule below): cheaper once the writes
# are steady (bench/cost.py prices both from the measured write rate).
resource "aws_dynamodb_table" "latest_prices" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-owned key; the prices are public market data and a CMK costs $1/month plus requests.
  name                        = "${var.name}-latest-prices"
  billing_mode                = local.provisioned ? "PROVISIONED" : "PAY_PER_REQUEST"
  write_capacity              = local.provisioned ? 1 : null
  read_capacity               = local.provisioned ? 1 : null
  hash_key                    = "symbol"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "symbol"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  lifecycle {
    ignore_changes = [write_capacity] # the scheduled scaling below sets it
  }
}

locals {
  provisioned = var.latest_capacity == "provisioned"
  # Write units from just before the open to just after the close, New York time.
  latest_write_schedule = local.provisioned ? {
    open  = { cron = "cron(25 9 ? * MON-FRI *)", units = var.latest_session_writes }
    close = { cron = "cron(5 16 ? * MON-FRI *)", units = 1 }
  } : {}
}

resource "aws_appautoscaling_target" "latest_writes" {
  count              = local.provisioned ? 1 : 0
  service_namespace  = "dynamodb"
  resource_id        = "table/${aws_dynamodb_table.latest_prices.name}"
  scalable_dimension = "dynamodb:table:WriteCapacityUnits"
  min_capacity       = 1
  max_capacity       = var.latest_session_writes
}

resource "aws_appautoscaling_scheduled_action" "latest_writes" {
  for_each           = local.latest_write_schedule
  name               = "${var.name}-latest-writes-${each.key}"
  service_namespace  = aws_appautoscaling_target.latest_writes[0].service_namespace
  resource_id        = aws_appautoscaling_target.latest_writes[0].resource_id
  scalable_dimension = aws_appautoscaling_target.latest_writes[0].scalable_dimension
  schedule           = each.value.cron
  timezone           = "America/New_York"

  scalable_target_action {
    min_capacity = each.value.units
    max_capacity = each.value.units
  }
}

# The providers' daily request budgets: one item per provider and UTC day, expiring after two
# days. Taken with a conditional ADD, so concurrent ticks cannot overrun a quota.
resource "aws_dynamodb_table" "request_budget" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-owned key; the items are request counts.
  name         = "${var.name}-request-budget"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "budget"

  attribute {
    name = "budget"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

# Failed ticks (Lambda async failures and undeliverable schedule events) land here.
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name}-tick-dead-letters"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}
