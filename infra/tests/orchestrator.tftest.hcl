# The optional orchestrator (modules/orchestrator), at plan time with the mocked provider: off by
# default (no instance of the module, so none of its resources), on through the root module, and
# the module itself: private network, encrypted database with a managed password, arm64 tasks
# of the tick's image, least-privilege roles. marketdata_tests/test_infra.py applies it on moto.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

# The module on its own is applied to this one (mocked values made at apply), so the ids the
# assertions compare are known.
mock_provider "aws" {
  alias  = "applied"
  source = "./tests/mocks"
}

variables {
  # The module's inputs when it is run on its own (the root module passes the same).
  name                       = "marketdata"
  region                     = "us-east-1"
  account_id                 = "123456789012"
  image                      = "123456789012.dkr.ecr.us-east-1.amazonaws.com/marketdata-tick:orchestrator-v1"
  repository_arn             = "arn:aws:ecr:us-east-1:123456789012:repository/marketdata-tick"
  environment                = { MARKETDATA_PROFILE = "aws", MARKETDATA_BUCKET = "marketdata-lake-123456789012" }
  run_policy_arns            = ["arn:aws:iam::123456789012:policy/marketdata-history", "arn:aws:iam::123456789012:policy/marketdata-ticks-observer"]
  service_policy_arns        = ["arn:aws:iam::123456789012:policy/marketdata-ticks-observer"]
  lake_arn                   = "arn:aws:s3:::marketdata-lake-123456789012"
  budget_table_arn           = "arn:aws:dynamodb:us-east-1:123456789012:table/marketdata-request-budget"
  provider_key_parameter_arn = ""
  vpc_cidr                   = "10.42.0.0/16"
  max_concurrent_runs        = 8
  run_cpu                    = 1024
  run_memory_mb              = 4096
  deletion_protection        = true
  log_retention_days         = 30

  # What dagster.yaml reads from the environment: every name must be set on every task.
  instance  = yamldecode(file("./modules/orchestrator/dagster.yaml"))
  pg        = yamldecode(file("./modules/orchestrator/dagster.yaml")).storage.postgres.postgres_db
  secret    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0123-AbCdEf"
  run_roles = ["arn:aws:iam::123456789012:role/marketdata-tick"]
}

run "off_by_default_the_stack_has_no_orchestrator" {
  command = plan

  assert {
    condition     = length(module.orchestrator) == 0 && output.orchestrator == null
    error_message = "orchestrator_enabled is false by default: no instance of the module, so none of its resources"
  }
}

run "on_the_root_module_deploys_it_from_the_tick_repository" {
  command = plan
  variables {
    orchestrator_enabled = true
  }

  assert {
    condition     = length(module.orchestrator) == 1
    error_message = "orchestrator_enabled = true instantiates the module once"
  }
  assert {
    condition = (
      output.orchestrator.cluster == "marketdata-orchestrator" &&
      output.orchestrator.run_task_definition == "marketdata-orchestrator-run" &&
      output.orchestrator.database_secret_arn == var.secret
    )
    error_message = "the outputs name the cluster, the run task definition and the password's secret"
  }
  assert {
    condition     = toset(keys(output.orchestrator)) == toset(["cluster", "service", "run_task_definition", "database_endpoint", "database_secret_arn", "log_group"])
    error_message = "the outputs carry names and ARNs only, never a password"
  }
}

run "orchestrator_variables_are_checked" {
  command = plan
  variables {
    orchestrator_enabled             = true
    orchestrator_run_cpu             = 1000
    orchestrator_run_memory_mb       = 1000
    orchestrator_max_concurrent_runs = 2
    orchestrator_vpc_cidr            = "10.42.0.0/28"
  }
  expect_failures = [var.orchestrator_run_cpu, var.orchestrator_run_memory_mb, var.orchestrator_max_concurrent_runs, var.orchestrator_vpc_cidr]
}

run "the_database_is_private_encrypted_and_its_password_managed" {
  command   = apply
  providers = { aws = aws.applied }
  module {
    source = "./modules/orchestrator"
  }

  assert {
    condition = (
      aws_db_instance.this.instance_class == "db.t4g.micro" && aws_db_instance.this.engine == "postgres" &&
      aws_db_instance.this.storage_encrypted && !aws_db_instance.this.publicly_accessible &&
      aws_db_instance.this.deletion_protection
    )
    error_message = "PostgreSQL on the smallest Graviton class, encrypted, not public, protected"
  }
  assert {
    condition     = aws_db_instance.this.manage_master_user_password && aws_db_instance.this.password == null
    error_message = "RDS generates and keeps the password in Secrets Manager: none is written in the configuration"
  }
  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "the database accepts TLS connections only"
  }
  assert {
    condition     = toset(aws_db_subnet_group.this.subnet_ids) == toset(aws_subnet.private[*].id) && length(aws_subnet.private) == 2
    error_message = "the database lives in the two private subnets"
  }
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.database_from_tasks.referenced_security_group_id == aws_security_group.tasks.id &&
      aws_vpc_security_group_ingress_rule.database_from_tasks.from_port == 5432
    )
    error_message = "only the orchestrator's tasks reach PostgreSQL"
  }
}

run "the_tasks_are_private_and_reach_out_through_one_nat_and_free_endpoints" {
  command   = apply
  providers = { aws = aws.applied }
  module {
    source = "./modules/orchestrator"
  }

  assert {
    condition = (
      !one(aws_ecs_service.this.network_configuration).assign_public_ip &&
      toset(one(aws_ecs_service.this.network_configuration).subnets) == toset(aws_subnet.private[*].id) &&
      one(aws_ecs_service.this.network_configuration).security_groups == toset([aws_security_group.tasks.id])
    )
    error_message = "the service's task has no public address and sits in the private subnets"
  }
  assert {
    condition     = one(aws_route_table.private.route).nat_gateway_id == aws_nat_gateway.this.id && aws_nat_gateway.this.subnet_id == aws_subnet.public.id
    error_message = "the private subnets go out through the one NAT gateway in the public subnet"
  }
  assert {
    condition = (
      toset(keys(aws_vpc_endpoint.gateway)) == toset(["s3", "dynamodb"]) &&
      alltrue([for e in aws_vpc_endpoint.gateway : e.vpc_endpoint_type == "Gateway" && e.route_table_ids == toset([aws_route_table.private.id])])
    )
    error_message = "S3 and DynamoDB traffic takes the free gateway endpoints, not the NAT"
  }
  assert {
    condition = (
      aws_vpc_security_group_egress_rule.tasks_https.from_port == 443 &&
      aws_vpc_security_group_egress_rule.tasks_database.referenced_security_group_id == aws_security_group.database.id &&
      length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    )
    error_message = "tasks go out to HTTPS and PostgreSQL only; the VPC's default group allows nothing"
  }
}

run "webserver_daemon_and_runs_are_arm64_tasks_of_the_tick_image" {
  command   = apply
  providers = { aws = aws.applied }
  module {
    source = "./modules/orchestrator"
  }

  assert {
    condition = alltrue([
      for t in [aws_ecs_task_definition.service, aws_ecs_task_definition.run] :
      one(t.runtime_platform).cpu_architecture == "ARM64" && t.requires_compatibilities == toset(["FARGATE"])
    ])
    error_message = "the service and every run are Fargate tasks on arm64"
  }
  assert {
    condition = alltrue(flatten([
      for t in [aws_ecs_task_definition.service, aws_ecs_task_definition.run] : [for c in jsondecode(t.container_definitions) : c.image == var.image]
    ]))
    error_message = "every container runs the one image"
  }
  assert {
    condition = {
      for c in jsondecode(aws_ecs_task_definition.service.container_definitions) : c.name => slice(c.command, 0, 1)
    } == { webserver = ["dagster-webserver"], daemon = ["dagster-daemon"] }
    error_message = "the service runs the webserver and the daemon (the image's command differs from the tick's)"
  }
  assert {
    condition     = contains(one([for c in jsondecode(aws_ecs_task_definition.service.container_definitions) : c.command if c.name == "webserver"]), "127.0.0.1")
    error_message = "the webserver (which has no authentication) listens on localhost only"
  }
  assert {
    condition = (
      [for c in jsondecode(aws_ecs_task_definition.run.container_definitions) : c.name] == [var.instance.run_launcher.config.container_name] &&
      aws_ecs_task_definition.run.family == "marketdata-orchestrator-run" &&
      aws_ecs_task_definition.run.cpu == "1024" && aws_ecs_task_definition.run.memory == "4096"
    )
    error_message = "the run task definition has the one container the launcher overrides, at the configured size"
  }
  assert {
    condition = alltrue(flatten([
      for t in [aws_ecs_task_definition.service, aws_ecs_task_definition.run] : [
        for c in jsondecode(t.container_definitions) :
        toset(concat([for e in c.environment : e.name], [for s in c.secrets : s.name])) == toset(concat(
          ["MARKETDATA_PROFILE", "MARKETDATA_BUCKET"],
          [var.pg.hostname.env, var.pg.port.env, var.pg.db_name.env, var.pg.username.env, var.pg.password.env],
          [var.instance.run_launcher.config.task_definition.env, var.instance.run_coordinator.config.max_concurrent_runs.env],
        ))
      ]
    ]))
    error_message = "every container gets exactly the platform's settings and every variable dagster.yaml reads"
  }
  assert {
    condition = alltrue(flatten([
      for t in [aws_ecs_task_definition.service, aws_ecs_task_definition.run] : [
        for c in jsondecode(t.container_definitions) :
        c.secrets == [{ name = var.pg.password.env, valueFrom = "${var.secret}:password::" }] &&
        !contains([for e in c.environment : e.name], var.pg.password.env)
      ]
    ]))
    error_message = "the password reaches each container from the RDS secret, never as a plain environment value"
  }
  assert {
    condition = (
      aws_ecs_service.this.desired_count == 1 && aws_ecs_service.this.deployment_maximum_percent == 100 &&
      aws_ecs_service.this.deployment_minimum_healthy_percent == 0 && aws_ecs_service.this.enable_execute_command
    )
    error_message = "exactly one daemon at a time (a deployment stops the old one first); ECS Exec reaches the webserver"
  }
}

run "the_launcher_may_start_and_watch_only_its_run_tasks" {
  command   = apply
  providers = { aws = aws.applied }
  module {
    source = "./modules/orchestrator"
  }

  assert {
    condition = (
      one([for s in local.service_policy.Statement : s.Resource if s.Sid == "LaunchRuns"]) == ["arn:aws:ecs:us-east-1:123456789012:task-definition/marketdata-orchestrator-run:*"] &&
      one([for s in local.service_policy.Statement : s.Condition if s.Sid == "LaunchRuns"]).ArnEquals["ecs:cluster"] == "arn:aws:ecs:us-east-1:123456789012:cluster/marketdata-orchestrator"
    )
    error_message = "ecs:RunTask on the run task definition's revisions, in this cluster only"
  }
  assert {
    condition = (
      one([for s in local.service_policy.Statement : s.Resource if s.Sid == "WatchRuns"]) == ["arn:aws:ecs:us-east-1:123456789012:task/marketdata-orchestrator/*"] &&
      one([for s in local.service_policy.Statement : s.Action if s.Sid == "WatchRuns"]) == ["ecs:DescribeTasks", "ecs:StopTask"]
    )
    error_message = "DescribeTasks and StopTask on this cluster's tasks only"
  }
  assert {
    condition = (
      one([for s in local.service_policy.Statement : s.Resource if s.Sid == "PassRunRoles"]) == [aws_iam_role.run.arn, aws_iam_role.execution.arn] &&
      one([for s in local.service_policy.Statement : s.Condition if s.Sid == "PassRunRoles"]).StringEquals["iam:PassedToService"] == "ecs-tasks.amazonaws.com"
    )
    error_message = "iam:PassRole on the run's two roles, to ECS tasks only"
  }
  assert {
    condition = alltrue(flatten([
      for policy in [local.service_policy, local.execution_policy, local.run_policy] : [
        for s in policy.Statement : s.Sid == "Unscoped" || s.Sid == "RegistryToken" if contains(s.Resource, "*")
      ]
    ]))
    error_message = "only the actions without resource-level permissions take a * resource"
  }
  assert {
    condition = (
      one([for s in local.service_policy.Statement : s.Action if s.Sid == "Unscoped"]) == ["ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"] &&
      one([for s in local.execution_policy.Statement : s.Action if s.Sid == "RegistryToken"]) == ["ecr:GetAuthorizationToken"]
    )
    error_message = "the * resource carries exactly the actions that have no resource-level permissions"
  }
  assert {
    condition = alltrue(flatten([
      for policy in [local.service_policy, local.execution_policy, local.run_policy] : [
        for s in policy.Statement : [for a in s.Action : !can(regex("^\\*$|:\\*$", a))]
      ]
    ]))
    error_message = "no statement allows a service-wide action"
  }
  assert {
    condition = (
      one([for s in local.execution_policy.Statement : s.Resource if s.Sid == "DatabaseSecret"]) == [var.secret] &&
      one([for s in local.execution_policy.Statement : s.Resource if s.Sid == "PullImage"]) == [var.repository_arn]
    )
    error_message = "the execution role reads the database's secret and pulls from the tick's repository, nothing else"
  }
  assert {
    condition = (
      tolist([for a in aws_iam_role_policy_attachment.run : a.policy_arn]) == var.run_policy_arns &&
      tolist([for a in aws_iam_role_policy_attachment.service : a.policy_arn]) == var.service_policy_arns &&
      one([for s in local.run_policy.Statement : s.Resource if s.Sid == "SessionLocks"]) == ["arn:aws:s3:::marketdata-lake-123456789012/locks/*"]
    )
    error_message = "a run gets the history and observer policies and its session locks; the service the observer's"
  }
  assert {
    condition     = length([for s in local.run_policy.Statement : s if s.Sid == "ProviderKey"]) == 0
    error_message = "without a provider key parameter no SSM read is granted"
  }
}
