# A VPC of its own: two private subnets (RDS needs two zones) for the database and every task,
# one public subnet holding the NAT gateway. The tasks reach the price providers' public APIs
# (a history run fetches from Yahoo or Alpha Vantage) and the AWS APIs through the NAT; S3 and
# DynamoDB, the heavy traffic, go through free gateway endpoints instead, so the lake's bytes
# never pay NAT processing. Nothing listens to the outside: the webserver binds to localhost and
# is reached through ECS Exec port forwarding (infra/README.md).

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  prefix = "${var.name}-orchestrator"
  zones  = slice(data.aws_availability_zones.available.names, 0, 2)
}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:Flow logs cost $0.50 per GB ingested for traffic that is the tasks' own calls to AWS and the price providers; turn them on when an audit asks.
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = local.prefix }
}

# The default security group of the VPC allows nothing (every resource names its own group).
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_subnet" "private" {
  count             = length(local.zones)
  vpc_id            = aws_vpc.this.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, count.index)
  tags              = { Name = "${local.prefix}-private-${local.zones[count.index]}" }
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.this.id
  availability_zone = local.zones[0]
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, length(local.zones))
  tags              = { Name = "${local.prefix}-public" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_eip" "nat" {
  domain = "vpc"
}

# One NAT gateway in one zone: batch runs tolerate a zone outage (they queue until it is back);
# a second one would double the largest fixed cost.
resource "aws_nat_gateway" "this" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this.id
  }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_vpc_endpoint" "gateway" {
  for_each          = toset(["s3", "dynamodb"])
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
}

# The tasks: no ingress at all; out to HTTPS anywhere (AWS APIs, price providers) and to the
# database.
resource "aws_security_group" "tasks" {
  name        = "${local.prefix}-tasks"
  description = "Dagster webserver, daemon and run tasks: no ingress; HTTPS and PostgreSQL out"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "AWS APIs and the price providers"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "tasks_database" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Run and event storage"
  referenced_security_group_id = aws_security_group.database.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_security_group" "database" {
  name        = "${local.prefix}-database"
  description = "Dagster run and event storage: PostgreSQL from the orchestrator tasks only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_tasks" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the Dagster tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}
