# History on AWS at scale (optional, off by default): Dagster's webserver and daemon as an ECS
# Fargate service, each run a Fargate task of its own, run and event storage in PostgreSQL.
# Everything lives in modules/orchestrator; with orchestrator_enabled = false the module has no
# instance and the stack creates none of it. Its monthly cost: infra/README.md.

module "orchestrator" {
  source = "./modules/orchestrator"
  count  = var.orchestrator_enabled ? 1 : 0

  name           = var.name
  region         = var.region
  account_id     = data.aws_caller_identity.current.account_id
  image          = "${aws_ecr_repository.tick.repository_url}:${var.orchestrator_image_tag}"
  repository_arn = aws_ecr_repository.tick.arn

  # The tick's settings: the code location and every run read the same lake, table and provider.
  environment = merge(
    {
      MARKETDATA_PROFILE                   = "aws"
      MARKETDATA_BUCKET                    = aws_s3_bucket.lake.id
      MARKETDATA_TABLE                     = aws_dynamodb_table.latest_prices.name
      MARKETDATA_SYMBOLS                   = var.symbols
      MARKETDATA_PROVIDER                  = var.provider_name
      MARKETDATA_BUDGET_TABLE              = aws_dynamodb_table.request_budget.name
      MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET = tostring(var.alphavantage_daily_budget)
      AWS_DEFAULT_REGION                   = var.region
    },
    var.provider_key_parameter == "" ? {} : { ALPHAVANTAGE_API_KEY_PARAM = var.provider_key_parameter },
  )
  run_policy_arns     = [aws_iam_policy.history.arn, aws_iam_policy.ticks_observer.arn]
  service_policy_arns = [aws_iam_policy.ticks_observer.arn]
  lake_arn            = aws_s3_bucket.lake.arn
  budget_table_arn    = aws_dynamodb_table.request_budget.arn
  provider_key_parameter_arn = (
    var.provider_key_parameter == "" ? "" :
    "arn:aws:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${var.provider_key_parameter}"
  )

  vpc_cidr            = var.orchestrator_vpc_cidr
  max_concurrent_runs = var.orchestrator_max_concurrent_runs
  run_cpu             = var.orchestrator_run_cpu
  run_memory_mb       = var.orchestrator_run_memory_mb
  deletion_protection = var.orchestrator_deletion_protection
  log_retention_days  = var.log_retention_days
}

output "orchestrator" {
  description = "The orchestrator's cluster, service, run task definition, database address and the ARN of its password's secret (null when orchestrator_enabled is false)."
  value       = var.orchestrator_enabled ? module.orchestrator[0] : null
}
