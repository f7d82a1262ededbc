terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }
}

locals {
  # Non-empty only when testing against moto's server or LocalStack.
  emulated = var.aws_endpoint_url != ""
}

provider "aws" {
  region = var.region

  # Against an emulator: every service at one endpoint, no real credential checks. The account
  # id is still asked of the emulator's STS: the provider builds some ARNs from it (an Athena
  # workgroup's, to read its tags) and moto finds nothing under an ARN without one.
  skip_credentials_validation = local.emulated
  skip_metadata_api_check     = local.emulated
  s3_use_path_style           = local.emulated

  dynamic "endpoints" {
    for_each = local.emulated ? [var.aws_endpoint_url] : []
    content {
      athena         = endpoints.value
      cloudwatch     = endpoints.value
      dynamodb       = endpoints.value
      ec2            = endpoints.value
      ecr            = endpoints.value
      ecs            = endpoints.value
      glue           = endpoints.value
      iam            = endpoints.value
      lambda         = endpoints.value
      logs           = endpoints.value
      rds            = endpoints.value
      s3             = endpoints.value
      scheduler      = endpoints.value
      secretsmanager = endpoints.value
      sns            = endpoints.value
      sqs            = endpoints.value
      ssm            = endpoints.value
      sts            = endpoints.value
    }
  }

  default_tags {
    tags = {
      project = "marketdata"
      stack   = var.name
    }
  }
}
