output "bucket" {
  description = "The lake bucket (MARKETDATA_BUCKET)."
  value       = aws_s3_bucket.lake.id
}

output "table" {
  description = "The latest-price table (MARKETDATA_TABLE)."
  value       = aws_dynamodb_table.latest_prices.name
}

output "budget_table" {
  description = "The providers' daily request budgets (MARKETDATA_BUDGET_TABLE)."
  value       = aws_dynamodb_table.request_budget.name
}

output "function" {
  description = "The tick Lambda."
  value       = aws_lambda_function.tick.function_name
}

output "repository_url" {
  description = "Where to push the tick image."
  value       = aws_ecr_repository.tick.repository_url
}

output "dead_letter_queue" {
  description = "URL of the dead-letter queue of failed ticks."
  value       = aws_sqs_queue.dead_letters.url
}

output "glue_database" {
  description = "The Glue database cataloguing the daily datasets."
  value       = aws_glue_catalog_database.lake.name
}

output "athena_workgroup" {
  description = "The Athena workgroup to query them in."
  value       = aws_athena_workgroup.analytics.name
}

output "history_policy" {
  description = "ARN of the managed policy to attach to whatever runs the history job."
  value       = aws_iam_policy.history.arn
}

output "athena_query_policy" {
  description = "ARN of the managed policy for Athena readers."
  value       = aws_iam_policy.athena_query.arn
}

output "ticks_observer_policy" {
  description = "ARN of the managed policy for a Dagster deployment (or an operator) watching production ticks."
  value       = aws_iam_policy.ticks_observer.arn
}

output "alarm_topic" {
  description = "ARN of the SNS topic every alarm notifies: subscribe the on-call rota here."
  value       = aws_sns_topic.alarms.arn
}
