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
