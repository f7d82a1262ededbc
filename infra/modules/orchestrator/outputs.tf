output "cluster" {
  description = "The ECS cluster the service and every run task run in."
  value       = aws_ecs_cluster.this.name
}

output "service" {
  value = aws_ecs_service.this.name
}

output "run_task_definition" {
  description = "The family the EcsRunLauncher runs (DAGSTER_RUN_TASK_DEFINITION)."
  value       = aws_ecs_task_definition.run.family
}

output "database_endpoint" {
  description = "The Postgres instance's address (no credentials: the password stays in its secret)."
  value       = aws_db_instance.this.address
}

output "database_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS keeps the password in (the ARN, never the value)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "log_group" {
  value = aws_cloudwatch_log_group.this.name
}
