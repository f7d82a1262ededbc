variable "name" {
  description = "Prefix of every resource name (lower-case letters, digits and hyphens, 3-32 characters)."
  type        = string
  default     = "marketdata"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,31}$", var.name))
    error_message = "name must be 3-32 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region for every resource."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "bucket_name" {
  description = "Name of the lake bucket; empty means <name>-lake-<account id>."
  type        = string
  default     = ""

  validation {
    condition     = var.bucket_name == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens."
  }
}

variable "image_tag" {
  description = "Tag of the tick image in the ECR repository (tags are immutable: push a new tag per release)."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a Docker tag: letters, digits, '_', '.', '-', at most 128 characters."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the tick Lambda in MB (CPU scales with it; 1769 MB is one full vCPU). 1024 is the cheapest measured (bench/cost.py) that leaves the tick's memory room."
  type        = number
  default     = 1024

  validation {
    condition     = var.lambda_memory_mb >= 512 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be between 512 and 10240 (pandas and Great Expectations need at least 512)."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda's CloudWatch log group in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "raw_expiry_days" {
  description = "Days after which raw objects expire (they move to Standard-IA after 30 days only if large enough)."
  type        = number
  default     = 400

  validation {
    condition     = var.raw_expiry_days >= 31
    error_message = "raw_expiry_days must be at least 31 (objects move to Standard-IA at 30 days)."
  }
}

variable "curated_expiry_days" {
  description = "Days after which curated objects expire (nothing reads them after their tick; a replay rebuilds them from raw)."
  type        = number
  default     = 7

  validation {
    condition     = var.curated_expiry_days >= 1 && floor(var.curated_expiry_days) == var.curated_expiry_days
    error_message = "curated_expiry_days must be a whole number of days, at least 1."
  }
}

variable "validated_expiry_days" {
  description = "Days after which the per-minute validated objects expire (each session is compacted into validated_daily after its close)."
  type        = number
  default     = 35

  validation {
    condition     = var.validated_expiry_days >= 7 && floor(var.validated_expiry_days) == var.validated_expiry_days
    error_message = "validated_expiry_days must be a whole number of days, at least 7 (the compaction of a session runs after it)."
  }
}

variable "latest_capacity" {
  description = "Capacity mode of the latest-price table: on_demand, or provisioned (latest_session_writes units through the session, 1 outside)."
  type        = string
  default     = "on_demand"

  validation {
    condition     = contains(["on_demand", "provisioned"], var.latest_capacity)
    error_message = "latest_capacity must be on_demand or provisioned."
  }
}

variable "latest_session_writes" {
  description = "Provisioned write units of the latest-price table through the session (latest_capacity = provisioned): the symbols written a tick / 60, with headroom."
  type        = number
  default     = 13

  validation {
    condition     = var.latest_session_writes >= 1 && var.latest_session_writes <= 40000 && floor(var.latest_session_writes) == var.latest_session_writes
    error_message = "latest_session_writes must be a whole number from 1 to 40000."
  }
}

variable "ecr_keep_images" {
  description = "How many images the ECR repository keeps: the running one, the one to roll back to and a spare (each ~0.3 GB, $0.10 per GB-month)."
  type        = number
  default     = 3

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000
    error_message = "ecr_keep_images must be between 1 and 1000."
  }
}

variable "table_deletion_protection" {
  description = "Protect the latest-price table from deletion (turn off only for throwaway stacks)."
  type        = bool
  default     = true
}

variable "around_the_clock" {
  description = "Tick every minute around the clock (rate(1 minute)) instead of the NYSE regular session."
  type        = bool
  default     = false
}

variable "symbols" {
  description = "Comma-separated symbols the tick fetches (MARKETDATA_SYMBOLS)."
  type        = string
  default     = "AAPL,MSFT,GOOGL,AMZN,NVDA,META,TSLA,JPM,V,KO"

  validation {
    condition     = alltrue([for s in split(",", var.symbols) : can(regex("^[A-Z0-9][A-Z0-9.-]{0,14}$", trimspace(s)))])
    error_message = "symbols must be comma-separated upper-case symbols matching ^[A-Z0-9][A-Z0-9.-]{0,14}$."
  }
}

variable "provider_name" {
  description = "Price provider of the scheduled tick (MARKETDATA_PROVIDER)."
  type        = string
  default     = "stub"

  validation {
    condition     = contains(["stub", "yahoo", "alphavantage"], var.provider_name)
    error_message = "provider_name must be stub, yahoo or alphavantage."
  }
  validation {
    condition     = var.provider_name != "alphavantage" || var.provider_key_parameter != ""
    error_message = "provider_name alphavantage needs provider_key_parameter: the SSM SecureString holding the API key."
  }
}

variable "alphavantage_daily_budget" {
  description = "Alpha Vantage requests a day the ticks may spend (25 on the free tier); a tick that would overrun it is refused."
  type        = number
  default     = 25

  validation {
    condition     = var.alphavantage_daily_budget >= 1 && var.alphavantage_daily_budget <= 1000000 && floor(var.alphavantage_daily_budget) == var.alphavantage_daily_budget
    error_message = "alphavantage_daily_budget must be a whole number from 1 to 1000000 (the range MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET accepts)."
  }
}

variable "provider_key_parameter" {
  description = "Name of the SSM SecureString parameter holding the provider API key; empty for none."
  type        = string
  default     = ""

  validation {
    condition     = var.provider_key_parameter == "" || can(regex("^/[A-Za-z0-9_./-]+$", var.provider_key_parameter))
    error_message = "provider_key_parameter must be empty or an SSM parameter path starting with '/'."
  }
}

variable "alarm_email" {
  description = "E-mail address the alarms page (an SNS e-mail subscription, confirmed from the first message); empty for none."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be empty or an e-mail address such as oncall@example.com."
  }
}

variable "alarm_actions" {
  description = "More ARNs every alarm notifies besides the stack's own SNS topic (a pager's topic, for example)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.alarm_actions : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:", arn))])
    error_message = "alarm_actions must be ARNs (arn:aws:sns:region:account:topic, for example)."
  }
}

variable "athena_bytes_scanned_cutoff" {
  description = "Bytes one Athena query may scan before the workgroup cancels it (default 1 GiB; Athena's minimum is 10 MB)."
  type        = number
  default     = 1073741824

  validation {
    condition     = var.athena_bytes_scanned_cutoff >= 10485760 && floor(var.athena_bytes_scanned_cutoff) == var.athena_bytes_scanned_cutoff
    error_message = "athena_bytes_scanned_cutoff must be a whole number of bytes, at least 10485760 (10 MB, Athena's minimum)."
  }
}

variable "athena_results_expiry_days" {
  description = "Days after which Athena query results under athena-results/ expire."
  type        = number
  default     = 7

  validation {
    condition     = var.athena_results_expiry_days >= 1 && floor(var.athena_results_expiry_days) == var.athena_results_expiry_days
    error_message = "athena_results_expiry_days must be a whole number of days, at least 1."
  }
}

variable "enforce_tls_policy" {
  description = "Attach the bucket policy that denies requests without TLS. Testing only: moto's server ignores policy conditions and would deny everything. Never turn off in AWS."
  type        = bool
  default     = true
}

variable "aws_endpoint_url" {
  description = "Testing only: send every AWS call to this endpoint (moto's server, LocalStack). Empty for AWS."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_endpoint_url == "" || can(regex("^https?://", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be empty or an http(s) URL."
  }
}

variable "orchestrator_enabled" {
  description = "Deploy the orchestrator (modules/orchestrator): Dagster's webserver and daemon on ECS Fargate, each run a Fargate task, PostgreSQL storage. Off by default."
  type        = bool
  default     = false
}

variable "orchestrator_image_tag" {
  description = "Tag of the orchestrator image (the Dockerfile's orchestrator target) in the tick's ECR repository."
  type        = string
  default     = "orchestrator-v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.orchestrator_image_tag))
    error_message = "orchestrator_image_tag must be a Docker tag: letters, digits, '_', '.', '-', at most 128 characters."
  }
}

variable "orchestrator_max_concurrent_runs" {
  description = "Dagster runs (Fargate tasks) at once; backfills and each provider have lower limits of their own (modules/orchestrator/dagster.yaml)."
  type        = number
  default     = 8

  validation {
    condition     = var.orchestrator_max_concurrent_runs >= 4 && var.orchestrator_max_concurrent_runs <= 100 && floor(var.orchestrator_max_concurrent_runs) == var.orchestrator_max_concurrent_runs
    error_message = "orchestrator_max_concurrent_runs must be a whole number from 4 (the backfill limit in dagster.yaml) to 100."
  }
}

variable "orchestrator_run_cpu" {
  description = "CPU units of each run's Fargate task (1024 = one vCPU)."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.orchestrator_run_cpu)
    error_message = "orchestrator_run_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "orchestrator_run_memory_mb" {
  description = "Memory of each run's Fargate task in MB (a 252-session backfill batch needs about 1.5 GB)."
  type        = number
  default     = 4096

  validation {
    condition     = var.orchestrator_run_memory_mb >= 2048 && var.orchestrator_run_memory_mb <= 122880 && var.orchestrator_run_memory_mb % 1024 == 0
    error_message = "orchestrator_run_memory_mb must be a whole number of GB in MB, from 2048 to 122880."
  }
}

variable "orchestrator_vpc_cidr" {
  description = "CIDR block of the orchestrator's VPC (its two private subnets and one public subnet are /20s of it)."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrsubnet(var.orchestrator_vpc_cidr, 4, 2)) && tonumber(split("/", var.orchestrator_vpc_cidr)[1]) <= 24
    error_message = "orchestrator_vpc_cidr must be an IPv4 CIDR block of /24 or larger, such as 10.42.0.0/16."
  }
}

variable "orchestrator_deletion_protection" {
  description = "Protect the orchestrator's database from deletion, with a final snapshot (turn off only for throwaway stacks)."
  type        = bool
  default     = true
}
