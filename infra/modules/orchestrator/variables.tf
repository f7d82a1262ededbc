# Inputs from the root module (infra/orchestrator.tf): the stack's names and the policies and
# tables its runs need. The operator-facing variables live in infra/variables.tf.

variable "name" {
  description = "The stack's name prefix; every orchestrator resource is named <name>-orchestrator…"
  type        = string
}

variable "region" {
  type = string
}

variable "account_id" {
  type = string
}

variable "image" {
  description = "The orchestrator image (the Dockerfile's orchestrator target) in the tick's ECR repository."
  type        = string
}

variable "repository_arn" {
  description = "The tick's ECR repository, which the execution role may pull from."
  type        = string
}

variable "environment" {
  description = "The platform's settings (MARKETDATA_*), the same as the tick's: the code location and every run read them."
  type        = map(string)
}

variable "run_policy_arns" {
  description = "Managed policies of the run task role (the history job's, the ticks observer's)."
  type        = list(string)
}

variable "service_policy_arns" {
  description = "Managed policies of the webserver's and daemon's task role (the sensors read the tick's run records)."
  type        = list(string)
}

variable "lake_arn" {
  type = string
}

variable "budget_table_arn" {
  description = "The providers' daily request budgets, which a history run spends."
  type        = string
}

variable "provider_key_parameter_arn" {
  description = "The SSM parameter holding the provider key; empty for none."
  type        = string
}

variable "vpc_cidr" {
  type = string
}

variable "max_concurrent_runs" {
  type = number
}

variable "run_cpu" {
  type = number
}

variable "run_memory_mb" {
  type = number
}

variable "service_cpu" {
  description = "CPU units of the webserver-and-daemon task (1024 = one vCPU)."
  type        = number
  default     = 512
}

variable "service_memory_mb" {
  description = "Memory of the webserver-and-daemon task: two Dagster processes and their code servers (about 170 MB each to load the definitions)."
  type        = number
  default     = 2048
}

variable "deletion_protection" {
  type = bool
}

variable "log_retention_days" {
  type = number
}
