locals {
  function_name = "${var.name}-tick"
  log_group_arn = "arn:aws:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${local.function_name}"

  # Least privilege, written with jsonencode so `terraform test` can assert on every statement.
  lambda_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "LakeObjects"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:PutObject"]
          Resource = [for prefix in local.lake_prefixes : "${aws_s3_bucket.lake.arn}/${prefix}/*"]
        },
        {
          Sid      = "TickReads"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = [for prefix in local.tick_read_prefixes : "${aws_s3_bucket.lake.arn}/${prefix}/*"]
        },
        {
          Sid      = "TickLocks"
          Effect   = "Allow"
          Action   = ["s3:DeleteObject"]
          Resource = ["${aws_s3_bucket.lake.arn}/locks/*"]
        },
        {
          Sid       = "LakeListing"
          Effect    = "Allow"
          Action    = ["s3:ListBucket"]
          Resource  = [aws_s3_bucket.lake.arn]
          Condition = { StringLike = { "s3:prefix" = [for prefix in concat(local.lake_prefixes, local.tick_read_prefixes) : "${prefix}/*"] } }
        },
        # A conditional UpdateItem per symbol (latest/dynamodb.py): the tick never reads the
        # table (the freshness check that scans it runs in Dagster: iam_observer.tf).
        {
          Sid      = "LatestPrices"
          Effect   = "Allow"
          Action   = ["dynamodb:UpdateItem"]
          Resource = [aws_dynamodb_table.latest_prices.arn]
        },
        {
          Sid      = "RequestBudget"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
          Resource = [aws_dynamodb_table.request_budget.arn]
        },
        {
          Sid      = "OwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${local.log_group_arn}:*"]
        },
        {
          Sid      = "DeadLetters"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = [aws_sqs_queue.dead_letters.arn]
        },
        # Active tracing: the Lambda service sends the segments with the function's role. X-Ray
        # has no resource-level permissions, so "*" is the only resource these two actions take.
        {
          Sid      = "Tracing"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
          Resource = ["*"]
        },
      ],
      var.provider_key_parameter == "" ? [] : [{
        Sid      = "ProviderKey"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = ["arn:aws:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${var.provider_key_parameter}"]
      }],
    )
  }

  # The scheduler may invoke this function and nothing else; SendMessage is its dead-letter
  # delivery, which EventBridge Scheduler performs with this same role.
  scheduler_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InvokeTick"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [aws_lambda_function.tick.arn]
      },
      {
        Sid      = "DeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.dead_letters.arn]
      },
    ]
  }
}

resource "aws_iam_role" "tick" {
  name = "${local.function_name}-lambda"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "tick" {
  name   = "tick"
  role   = aws_iam_role.tick.id
  policy = jsonencode(local.lambda_policy)
}

resource "aws_iam_role" "scheduler" {
  name = "${local.function_name}-scheduler"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-tick"
  role   = aws_iam_role.scheduler.id
  policy = jsonencode(local.scheduler_policy)
}
