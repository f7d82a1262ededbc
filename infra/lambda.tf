locals {
  # The tick's one time budget, which the code derives its deadlines from as well: the Lambda's
  # timeout (and the duration alarm's threshold) come from it, never from a second constant.
  time_budget = jsondecode(file("${path.module}/../marketdata_assets/operations/time_budget.json"))
}

resource "aws_ecr_repository" "tick" {
  #checkov:skip=CKV_AWS_136:Images hold only open-source code; AES-256 at rest (the default) is enough and a CMK costs $1/month.
  name                 = local.function_name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_lifecycle_policy" "tick" {
  repository = aws_ecr_repository.tick.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last ${var.ecr_keep_images} images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.ecr_keep_images
      }
      action = { type = "expire" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "tick" {
  #checkov:skip=CKV_AWS_158:Logs hold tick counts and reason codes only, no secrets; the service key encrypts them.
  #checkov:skip=CKV_AWS_338:One year of per-minute tick logs costs more than it is worth; retention is a variable.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "tick" {
  #checkov:skip=CKV_AWS_117:Talks only to S3, DynamoDB, SQS and public price APIs; a VPC would need a NAT gateway (~$32/month) for no gain.
  #checkov:skip=CKV_AWS_173:Environment variables hold names only (bucket, table, symbols); the provider key lives in SSM.
  #checkov:skip=CKV_AWS_272:Images come from this account's ECR with immutable tags and scan on push; code signing does not apply to images.
  #checkov:skip=CKV_AWS_116:Failures go to the SQS queue through the event-invoke config's on-failure destination (dead_letter_config is the older mechanism).
  function_name                  = local.function_name
  role                           = aws_iam_role.tick.arn
  package_type                   = "Image"
  image_uri                      = "${aws_ecr_repository.tick.repository_url}:${var.image_tag}"
  architectures                  = ["arm64"]
  memory_size                    = var.lambda_memory_mb
  timeout                        = local.time_budget.lambda_timeout_s
  reserved_concurrent_executions = 1

  environment {
    variables = merge(
      {
        MARKETDATA_PROFILE   = "aws"
        MARKETDATA_BUCKET    = aws_s3_bucket.lake.id
        MARKETDATA_TABLE     = aws_dynamodb_table.latest_prices.name
        MARKETDATA_SYMBOLS   = var.symbols
        MARKETDATA_PROVIDER  = var.provider_name
        MARKETDATA_LOG_LEVEL = "WARNING"

        MARKETDATA_BUDGET_TABLE              = aws_dynamodb_table.request_budget.name
        MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET = tostring(var.alphavantage_daily_budget)
      },
      var.provider_key_parameter == "" ? {} : { ALPHAVANTAGE_API_KEY_PARAM = var.provider_key_parameter },
    )
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.tick, aws_iam_role_policy.tick]

  lifecycle {
    precondition {
      condition     = local.time_budget.lambda_timeout_s >= 10 && local.time_budget.lambda_timeout_s < local.time_budget.tick_interval_s
      error_message = "marketdata_assets/operations/time_budget.json: lambda_timeout_s must be at least 10 s and under tick_interval_s, so a tick never overlaps the next."
    }
  }
}

# A late tick is worthless and a retried one would overlap the next: drop both, keep the failure.
resource "aws_lambda_function_event_invoke_config" "tick" {
  function_name                = aws_lambda_function.tick.function_name
  maximum_event_age_in_seconds = 60
  maximum_retry_attempts       = 0

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dead_letters.arn
    }
  }
}
