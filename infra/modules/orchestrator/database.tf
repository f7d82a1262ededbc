# Dagster's run, event and schedule storage: PostgreSQL on the smallest Graviton class, in the
# private subnets, encrypted, TLS only. RDS generates the master password and keeps it in
# Secrets Manager (manage_master_user_password): it is in no code, no variable and no state
# output; the tasks receive it from the secret through their task definitions.

resource "aws_db_subnet_group" "this" {
  name       = local.prefix
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "this" {
  name   = local.prefix
  family = "postgres16"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  # Statements slower than a second and every schema change go to the exported log.
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:Multi-AZ doubles the instance's cost; backups restore the run history, and runs queue while it is down.
  #checkov:skip=CKV_AWS_161:Dagster's Postgres storage authenticates with a password (from Secrets Manager), not IAM tokens.
  #checkov:skip=CKV_AWS_118:Enhanced monitoring needs a role and bills CloudWatch per second of a database that idles; the basic metrics are enough.
  #checkov:skip=CKV_AWS_353:Performance Insights is not worth its cost on a db.t4g.micro holding run metadata.
  identifier     = local.prefix
  engine         = "postgres"
  engine_version = "16"
  instance_class = "db.t4g.micro"

  allocated_storage     = 20
  max_allocated_storage = 100
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name                     = "dagster"
  username                    = "dagster"
  manage_master_user_password = true

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.database.id]
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = false
  multi_az               = false

  backup_retention_period         = 7
  copy_tags_to_snapshot           = true
  auto_minor_version_upgrade      = true
  enabled_cloudwatch_logs_exports = ["postgresql"]
  deletion_protection             = var.deletion_protection
  skip_final_snapshot             = !var.deletion_protection
  final_snapshot_identifier       = var.deletion_protection ? "${local.prefix}-final" : null
}
