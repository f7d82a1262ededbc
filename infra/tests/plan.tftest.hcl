# Offline plan-level assertions: `terraform test` with a mocked AWS provider (no endpoint at all).

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

variables {
  # The one time budget, read here on its own to check what the stack made of it.
  time_budget = jsondecode(file("../marketdata_assets/operations/time_budget.json"))
}

run "lake_is_private_encrypted_versioned_and_tls_only" {
  command = plan

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.lake.block_public_acls,
      aws_s3_bucket_public_access_block.lake.block_public_policy,
      aws_s3_bucket_public_access_block.lake.ignore_public_acls,
      aws_s3_bucket_public_access_block.lake.restrict_public_buckets,
    ])
    error_message = "every public access block setting must be on"
  }
  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.lake.rule : one(r.apply_server_side_encryption_by_default).sse_algorithm]) == "aws:kms"
    error_message = "the lake must be encrypted with KMS"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.lake.versioning_configuration).status == "Enabled"
    error_message = "the lake must be versioned"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.lake[0].policy).Statement :
      s.Effect == "Deny" && s.Action == "s3:*" && s.Condition.Bool["aws:SecureTransport"] == "false"
    ])
    error_message = "the bucket policy must deny every request without TLS"
  }
  assert {
    condition     = toset([for r in aws_s3_bucket_lifecycle_configuration.lake.rule : r.id]) == toset(["raw", "curated", "validated", "reference", "runs", "quarantine", "athena-results", "locks", "noncurrent-versions-and-uploads"])
    error_message = "lifecycle rules for raw, curated, validated, reference, runs, quarantine, Athena results, stale locks and noncurrent versions/uploads are expected"
  }
  assert {
    condition = alltrue([
      for r in aws_s3_bucket_lifecycle_configuration.lake.rule : length(r.expiration) == 1 if r.id != "noncurrent-versions-and-uploads"
    ])
    error_message = "every per-prefix lifecycle rule expires its objects"
  }
}

run "table_can_be_provisioned_through_the_session" {
  command = plan

  variables {
    latest_capacity       = "provisioned"
    latest_session_writes = 20
  }

  assert {
    condition     = aws_dynamodb_table.latest_prices.billing_mode == "PROVISIONED" && aws_appautoscaling_target.latest_writes[0].max_capacity == 20
    error_message = "provisioned capacity scales up to latest_session_writes"
  }
  assert {
    condition = (
      aws_appautoscaling_scheduled_action.latest_writes["open"].timezone == "America/New_York"
      && tonumber(one(aws_appautoscaling_scheduled_action.latest_writes["open"].scalable_target_action).min_capacity) == 20
      && tonumber(one(aws_appautoscaling_scheduled_action.latest_writes["close"].scalable_target_action).max_capacity) == 1
    )
    error_message = "the session's write units from before the open, 1 after the close, in New York time"
  }
}

run "table_is_on_demand_recoverable_protected_and_encrypted" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.latest_prices.hash_key == "symbol" && aws_dynamodb_table.latest_prices.billing_mode == "PAY_PER_REQUEST" && length(aws_appautoscaling_target.latest_writes) == 0
    error_message = "the table is keyed by symbol and billed on demand by default"
  }
  assert {
    condition     = one(aws_dynamodb_table.latest_prices.point_in_time_recovery).enabled && one(aws_dynamodb_table.latest_prices.server_side_encryption).enabled
    error_message = "point-in-time recovery and encryption must be on"
  }
  assert {
    condition     = aws_dynamodb_table.latest_prices.deletion_protection_enabled
    error_message = "deletion protection is on by default"
  }
}

run "lambda_runs_once_at_a_time_and_never_retries_late_ticks" {
  command = plan

  assert {
    condition     = aws_lambda_function.tick.reserved_concurrent_executions == 1 && aws_lambda_function.tick.timeout < 60
    error_message = "one tick at a time, each under a minute"
  }
  assert {
    condition     = aws_lambda_function.tick.timeout == var.time_budget.lambda_timeout_s && aws_lambda_function.tick.timeout < var.time_budget.tick_interval_s
    error_message = "the timeout is the time budget's lambda_timeout_s (marketdata_assets/operations/time_budget.json), under its tick interval"
  }
  assert {
    condition     = aws_lambda_function.tick.package_type == "Image" && aws_lambda_function.tick.architectures == tolist(["arm64"])
    error_message = "the tick is an arm64 container image"
  }
  assert {
    condition = (
      aws_lambda_function_event_invoke_config.tick.maximum_retry_attempts == 0 &&
      aws_lambda_function_event_invoke_config.tick.maximum_event_age_in_seconds == 60
    )
    error_message = "late or failed ticks are dropped to the dead-letter queue, not retried"
  }
  assert {
    condition     = aws_ecr_repository.tick.image_tag_mutability == "IMMUTABLE" && one(aws_ecr_repository.tick.image_scanning_configuration).scan_on_push
    error_message = "image tags are immutable and scanned on push"
  }
}

run "schedule_covers_the_new_york_session_without_retries" {
  command = plan

  assert {
    condition     = toset([for s in aws_scheduler_schedule.tick : s.schedule_expression]) == toset(["cron(30-59 9 ? * MON-FRI *)", "cron(* 10-15 ? * MON-FRI *)"])
    error_message = "09:30-09:59 and 10:00-15:59 on weekdays"
  }
  assert {
    condition     = alltrue([for s in aws_scheduler_schedule.tick : s.schedule_expression_timezone == "America/New_York"])
    error_message = "the schedule follows New York time (DST included)"
  }
  assert {
    condition     = alltrue([for s in aws_scheduler_schedule.tick : one(one(s.target).retry_policy).maximum_retry_attempts == 0])
    error_message = "the scheduler never retries a tick"
  }
  assert {
    condition     = alltrue([for s in aws_scheduler_schedule.tick : strcontains(one(s.target).input, "<aws.scheduler.scheduled-time>")])
    error_message = "the target input carries the scheduled time"
  }
}

run "around_the_clock_is_one_rate_schedule_watched_every_minute" {
  command = plan
  variables {
    around_the_clock = true
  }

  assert {
    condition     = [for s in aws_scheduler_schedule.tick : s.schedule_expression] == ["rate(1 minute)"]
    error_message = "around the clock is rate(1 minute)"
  }
  assert {
    condition     = [for q in aws_cloudwatch_metric_alarm.ticks_missing.metric_query : q.expression if q.return_data == true] == ["FILL(ticks, 0)"]
    error_message = "around the clock a missing tick counts at any hour"
  }
}

run "iam_allows_no_wildcards_and_only_the_lake_prefixes" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for policy in [local.lambda_policy, local.scheduler_policy] : [
        for s in policy.Statement : [
          for value in concat(tolist(s.Action), tolist(s.Resource)) : !can(regex("^\\*$|^[a-z0-9-]+:\\*$", value))
        ] if s.Effect == "Allow" && s.Sid != "Tracing"
      ]
    ]))
    error_message = "no Allow statement but X-Ray's may use a bare * action or resource, or a service-wide action"
  }
  assert {
    condition = toset(one([for s in local.lambda_policy.Statement : s.Resource if s.Sid == "LakeObjects"])) == toset([
      for p in ["raw", "curated", "validated", "quarantine", "runs", "reference", "locks"] : "arn:aws:s3:::marketdata-lake-123456789012/${p}/*"
    ])
    error_message = "objects may be read and written only under the lake prefixes, run records (runs/) included"
  }
  assert {
    condition     = toset(one([for s in local.lambda_policy.Statement : s.Condition.StringLike["s3:prefix"] if s.Sid == "LakeListing"])) == toset(["raw/*", "curated/*", "validated/*", "quarantine/*", "runs/*", "reference/*", "locks/*", "corporate_actions/*"])
    error_message = "the bucket may be listed only under the prefixes the tick reads"
  }
  assert {
    condition     = one([for s in local.lambda_policy.Statement : s.Resource if s.Sid == "TickReads"]) == ["arn:aws:s3:::marketdata-lake-123456789012/corporate_actions/*"] && one([for s in local.lambda_policy.Statement : s.Action if s.Sid == "TickReads"]) == ["s3:GetObject"]
    error_message = "the tick only reads corporate_actions/ (its session's splits), never writes it"
  }
  assert {
    condition     = one([for s in local.lambda_policy.Statement : s.Resource if s.Sid == "TickLocks"]) == ["arn:aws:s3:::marketdata-lake-123456789012/locks/*"]
    error_message = "objects may be deleted only under locks/ (a run releasing its tick lock)"
  }
  assert {
    condition     = one([for s in local.lambda_policy.Statement : s.Action if s.Sid == "LatestPrices"]) == ["dynamodb:UpdateItem"]
    error_message = "the tick only writes the latest-price table (conditional UpdateItem): no GetItem, no Scan"
  }
  assert {
    condition = (
      one([for s in local.lambda_policy.Statement : s if contains(s.Resource, "*")]).Sid == "Tracing" &&
      one([for s in local.lambda_policy.Statement : s.Action if s.Sid == "Tracing"]) == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] &&
      one([for s in local.lambda_policy.Statement : s.Resource if s.Sid == "Tracing"]) == ["*"]
    )
    error_message = "active tracing may send exactly trace segments and telemetry, the one statement on * (X-Ray has no resource-level permissions)"
  }
  assert {
    condition     = aws_lambda_function.tick.tracing_config[0].mode == "Active"
    error_message = "the tick is traced"
  }
  assert {
    condition = toset(flatten([for s in local.lambda_policy.Statement : s.Action])) == toset([
      "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "dynamodb:GetItem", "dynamodb:UpdateItem",
      "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
    ])
    error_message = "the Lambda role has exactly the actions the tick needs"
  }
  assert {
    condition     = one([for s in local.scheduler_policy.Statement : s.Action if s.Sid == "InvokeTick"]) == ["lambda:InvokeFunction"] && one([for s in local.scheduler_policy.Statement : s.Resource if s.Sid == "InvokeTick"]) == ["arn:aws:lambda:us-east-1:123456789012:function:marketdata-tick"]
    error_message = "the scheduler may invoke this one function"
  }
}

run "provider_key_parameter_adds_one_ssm_read" {
  command = plan
  variables {
    provider_key_parameter = "/marketdata/alphavantage-key"
  }

  assert {
    condition     = one([for s in local.lambda_policy.Statement : s.Resource if s.Sid == "ProviderKey"]) == ["arn:aws:ssm:us-east-1:123456789012:parameter/marketdata/alphavantage-key"]
    error_message = "the Lambda may read exactly the configured parameter"
  }
}

run "alphavantage_reads_its_key_and_spends_a_budget_that_expires" {
  command = plan
  variables {
    provider_name             = "alphavantage"
    provider_key_parameter    = "/marketdata/alphavantage-key"
    alphavantage_daily_budget = 75
  }

  assert {
    condition     = aws_dynamodb_table.request_budget.hash_key == "budget" && one(aws_dynamodb_table.request_budget.ttl).attribute_name == "expires_at" && one(aws_dynamodb_table.request_budget.ttl).enabled
    error_message = "the budget table is keyed by budget and its items expire through expires_at"
  }
  assert {
    condition     = one([for s in local.lambda_policy.Statement : s.Action if s.Sid == "RequestBudget"]) == ["dynamodb:GetItem", "dynamodb:UpdateItem"] && one([for s in local.lambda_policy.Statement : s.Resource if s.Sid == "RequestBudget"]) == [aws_dynamodb_table.request_budget.arn]
    error_message = "the Lambda may read and update the budget table and nothing more"
  }
  assert {
    condition = alltrue([
      aws_lambda_function.tick.environment[0].variables["MARKETDATA_PROVIDER"] == "alphavantage",
      aws_lambda_function.tick.environment[0].variables["ALPHAVANTAGE_API_KEY_PARAM"] == "/marketdata/alphavantage-key",
      aws_lambda_function.tick.environment[0].variables["MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET"] == "75",
      !contains(keys(aws_lambda_function.tick.environment[0].variables), "ALPHAVANTAGE_API_KEY"),
    ])
    error_message = "the Lambda gets the key's parameter name and the budget, never the key"
  }
}

run "alphavantage_without_a_key_parameter_or_with_a_budget_out_of_range_is_refused" {
  command = plan
  variables {
    provider_name             = "alphavantage"
    alphavantage_daily_budget = 2000000
  }
  expect_failures = [var.provider_name, var.alphavantage_daily_budget]
}

run "bad_variables_are_refused" {
  command = plan
  variables {
    alarm_email   = "oncall at example.com"
    alarm_actions = ["oncall@example.com"]
    name          = "Bad_Name"
  }
  expect_failures = [var.alarm_email, var.alarm_actions, var.name]
}
