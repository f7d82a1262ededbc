# Three roles, each with what it needs and no more:
# - execution: what ECS does for every task (pull the image, write its logs, read the DB secret);
# - service: the webserver and the daemon, whose EcsRunLauncher starts, watches and stops run
#   tasks of the run task definition in this cluster only;
# - run: one Dagster run (the history job, the compaction, the forecasts): the lake's history
#   and observer policies from the root module, its session locks, the request budget.
# Policies are written with jsonencode in locals so `terraform test` asserts on every statement.

locals {
  ecs_arn         = "arn:aws:ecs:${var.region}:${var.account_id}"
  cluster_arn     = "${local.ecs_arn}:cluster/${local.prefix}"
  cluster_tasks   = "${local.ecs_arn}:task/${local.prefix}/*"
  run_definitions = "${local.ecs_arn}:task-definition/${local.run_family}:*"
  log_group_arn   = "arn:aws:logs:${var.region}:${var.account_id}:log-group:/ecs/${local.prefix}"

  assume_ecs_tasks = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })

  execution_policy = {
    Version = "2012-10-17"
    Statement = [
      # ECR's registry token has no resource-level permissions: "*" is its only resource.
      {
        Sid      = "RegistryToken"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = ["*"]
      },
      {
        Sid      = "PullImage"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = [var.repository_arn]
      },
      {
        Sid      = "TaskLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${local.log_group_arn}:*"]
      },
      {
        Sid      = "DatabaseSecret"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [aws_db_instance.this.master_user_secret[0].secret_arn]
      },
    ]
  }

  service_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LaunchRuns"
        Effect    = "Allow"
        Action    = ["ecs:RunTask"]
        Resource  = [local.run_definitions]
        Condition = { ArnEquals = { "ecs:cluster" = local.cluster_arn } }
      },
      # RunTask tags each task with its run id (and the allow-listed run tags).
      {
        Sid       = "TagRuns"
        Effect    = "Allow"
        Action    = ["ecs:TagResource"]
        Resource  = [local.cluster_tasks]
        Condition = { StringEquals = { "ecs:CreateAction" = "RunTask" } }
      },
      # Run health checks, termination from the UI, and the daemon's own task (its network
      # configuration is what the run tasks get).
      {
        Sid      = "WatchRuns"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTasks", "ecs:StopTask"]
        Resource = [local.cluster_tasks]
      },
      {
        Sid       = "PassRunRoles"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [aws_iam_role.run.arn, aws_iam_role.execution.arn]
        Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      },
      # A failed run task's last log lines go into the run's failure message.
      {
        Sid      = "RunLogs"
        Effect   = "Allow"
        Action   = ["logs:GetLogEvents"]
        Resource = ["${local.log_group_arn}:log-stream:*"]
      },
      # DescribeTaskDefinition, DescribeNetworkInterfaces and ECS Exec's message channels have
      # no resource-level permissions: "*" is the only resource they take.
      {
        Sid      = "Unscoped"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
        Resource = ["*"]
      },
    ]
  }

  lake_locks = "${var.lake_arn}/locks"
  run_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        # A history run holds its sessions' leases (lake/leases.py) to its end.
        {
          Sid      = "SessionLocks"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
          Resource = ["${local.lake_locks}/*"]
        },
        {
          Sid       = "SessionLockListing"
          Effect    = "Allow"
          Action    = ["s3:ListBucket"]
          Resource  = [var.lake_arn]
          Condition = { StringLike = { "s3:prefix" = ["locks/*"] } }
        },
        {
          Sid      = "RequestBudget"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
          Resource = [var.budget_table_arn]
        },
      ],
      var.provider_key_parameter_arn == "" ? [] : [{
        Sid      = "ProviderKey"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = [var.provider_key_parameter_arn]
      }],
    )
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.prefix}-execution"
  assume_role_policy = local.assume_ecs_tasks
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-log-secret"
  role   = aws_iam_role.execution.id
  policy = jsonencode(local.execution_policy)
}

resource "aws_iam_role" "service" {
  name               = "${local.prefix}-service"
  assume_role_policy = local.assume_ecs_tasks
}

resource "aws_iam_role_policy" "service" {
  name   = "launch-runs"
  role   = aws_iam_role.service.id
  policy = jsonencode(local.service_policy)
}

resource "aws_iam_role_policy_attachment" "service" {
  count      = length(var.service_policy_arns)
  role       = aws_iam_role.service.name
  policy_arn = var.service_policy_arns[count.index]
}

resource "aws_iam_role" "run" {
  name               = "${local.prefix}-run"
  assume_role_policy = local.assume_ecs_tasks
}

resource "aws_iam_role_policy" "run" {
  name   = "history-run"
  role   = aws_iam_role.run.id
  policy = jsonencode(local.run_policy)
}

resource "aws_iam_role_policy_attachment" "run" {
  count      = length(var.run_policy_arns)
  role       = aws_iam_role.run.name
  policy_arn = var.run_policy_arns[count.index]
}
