# One Fargate service (arm64) running Dagster's webserver and daemon side by side in one task,
# from the tick's image built at its orchestrator target (the same code and lock, plus the
# orchestrator dependency group). The daemon's EcsRunLauncher starts every run as a task of the
# run task definition below, in the same subnets and security group (dagster.yaml).

locals {
  # The instance configuration the image carries; the environment variable names below are
  # read from it, so the file and the task definitions cannot drift apart.
  instance = yamldecode(file("${path.module}/dagster.yaml"))
  postgres = local.instance.storage.postgres.postgres_db
  launcher = local.instance.run_launcher.config

  workspace = "/var/task/workspace.yaml"
  dagster_environment = {
    (local.postgres.hostname.env)                                   = aws_db_instance.this.address
    (local.postgres.port.env)                                       = tostring(aws_db_instance.this.port)
    (local.postgres.db_name.env)                                    = aws_db_instance.this.db_name
    (local.postgres.username.env)                                   = aws_db_instance.this.username
    (local.launcher.task_definition.env)                            = local.run_family
    (local.instance.run_coordinator.config.max_concurrent_runs.env) = tostring(var.max_concurrent_runs)
  }
  environment = [
    for key, value in merge(var.environment, local.dagster_environment) : { name = key, value = value }
  ]
  # The password, from the secret RDS manages (its JSON holds username and password).
  secrets = [{
    name      = local.postgres.password.env
    valueFrom = "${aws_db_instance.this.master_user_secret[0].secret_arn}:password::"
  }]
  run_family     = "${local.prefix}-run"
  service_family = local.prefix

  log_configuration = {
    logDriver = "awslogs"
    options = {
      awslogs-group         = aws_cloudwatch_log_group.this.name
      awslogs-region        = var.region
      awslogs-stream-prefix = "dagster"
    }
  }
}

resource "aws_ecs_cluster" "this" {
  #checkov:skip=CKV_AWS_65:Container Insights bills per metric for a handful of tasks; the service's CPU and memory metrics come without it.
  name = local.prefix
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Logs hold Dagster's run events and step output, no secrets; the service key encrypts them.
  #checkov:skip=CKV_AWS_338:Run events are kept in PostgreSQL; the container logs need no year of retention (a variable).
  name              = "/ecs/${local.prefix}"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "service" {
  #checkov:skip=CKV_AWS_336:Dagster writes its local artifacts under DAGSTER_HOME and temporary files; the root file system stays writable.
  family                   = local.service_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.service_cpu
  memory                   = var.service_memory_mb
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.service.arn

  runtime_platform {
    cpu_architecture        = "ARM64"
    operating_system_family = "LINUX"
  }

  container_definitions = jsonencode([
    {
      name      = "webserver"
      image     = var.image
      essential = true
      # Localhost only: reached through ECS Exec port forwarding, never from the network.
      command          = ["dagster-webserver", "--host", "127.0.0.1", "--port", "3000", "--workspace", local.workspace]
      environment      = local.environment
      secrets          = local.secrets
      logConfiguration = local.log_configuration
    },
    {
      name             = "daemon"
      image            = var.image
      essential        = true
      command          = ["dagster-daemon", "run", "--workspace", local.workspace]
      environment      = local.environment
      secrets          = local.secrets
      logConfiguration = local.log_configuration
    },
  ])
}

# Each run's task: the launcher replaces the command with `dagster api execute_run …`.
resource "aws_ecs_task_definition" "run" {
  #checkov:skip=CKV_AWS_336:Dagster and the history steps write temporary files; the root file system stays writable.
  family                   = local.run_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.run_cpu
  memory                   = var.run_memory_mb
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.run.arn

  runtime_platform {
    cpu_architecture        = "ARM64"
    operating_system_family = "LINUX"
  }

  container_definitions = jsonencode([{
    name             = local.launcher.container_name
    image            = var.image
    essential        = true
    environment      = local.environment
    secrets          = local.secrets
    logConfiguration = local.log_configuration
  }])
}

# Exactly one daemon at a time (two would both dequeue runs): a deployment stops the old task
# before it starts the new one.
resource "aws_ecs_service" "this" {
  name                               = local.prefix
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.service.arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  enable_execute_command             = true

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
}
