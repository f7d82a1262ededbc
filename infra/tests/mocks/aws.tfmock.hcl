# The mocked AWS provider of every tests/*.tftest.hcl: ARNs the provider would otherwise reject.

mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::marketdata-lake-123456789012", id = "marketdata-lake-123456789012" }
}
mock_resource "aws_dynamodb_table" {
  defaults = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/marketdata-latest-prices" }
}
mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:us-east-1:123456789012:marketdata-tick-dead-letters"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/marketdata-tick-dead-letters"
  }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/marketdata-tick" }
}
mock_resource "aws_lambda_function" {
  defaults = { arn = "arn:aws:lambda:us-east-1:123456789012:function:marketdata-tick" }
}
mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:us-east-1:123456789012:repository/marketdata-tick"
    repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/marketdata-tick"
  }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:us-east-1:123456789012:marketdata-alarms" }
}
mock_resource "aws_iam_policy" {
  defaults = { arn = "arn:aws:iam::123456789012:policy/marketdata-history" }
}
mock_data "aws_availability_zones" {
  defaults = { names = ["us-east-1a", "us-east-1b", "us-east-1c"] }
}
mock_resource "aws_db_instance" {
  defaults = {
    address            = "marketdata-orchestrator.abcdefghijkl.us-east-1.rds.amazonaws.com"
    port               = 5432
    master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0123-AbCdEf", kms_key_id = "", secret_status = "active" }]
  }
}
mock_resource "aws_ecs_task_definition" {
  defaults = { arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/marketdata-orchestrator:1" }
}
mock_resource "aws_ecs_cluster" {
  defaults = { arn = "arn:aws:ecs:us-east-1:123456789012:cluster/marketdata-orchestrator" }
}
