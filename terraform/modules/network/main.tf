# A new VPC with public subnets across availability zones, or the subnets of an existing VPC.
locals {
  create = var.vpc_id == ""
  # Zone of each subnet, in order.
  subnet_zones = local.create ? var.availability_zones : data.aws_subnet.existing[*].availability_zone
}

resource "aws_vpc" "this" {
  count                = local.create ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

# Deny everything through the default security group; every host uses the stack's own groups.
resource "aws_default_security_group" "this" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id
}

resource "aws_flow_log" "this" {
  count                = local.create ? 1 : 0
  vpc_id               = aws_vpc.this[0].id
  traffic_type         = "REJECT"
  log_destination_type = "s3"
  log_destination      = "${var.flow_log_bucket_arn}/flow-logs/"
}

resource "aws_internet_gateway" "this" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = { Name = var.name }
}

resource "aws_subnet" "this" {
  count             = local.create ? length(var.availability_zones) : 0
  vpc_id            = aws_vpc.this[0].id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index)
  tags              = { Name = "${var.name}-${var.availability_zones[count.index]}" }
}

resource "aws_route_table" "this" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }

  tags = { Name = var.name }
}

resource "aws_route_table_association" "this" {
  count          = local.create ? length(var.availability_zones) : 0
  subnet_id      = aws_subnet.this[count.index].id
  route_table_id = aws_route_table.this[0].id
}

data "aws_vpc" "existing" {
  count = local.create ? 0 : 1
  id    = var.vpc_id
}

data "aws_subnet" "existing" {
  count = local.create ? 0 : length(var.subnet_ids)
  id    = var.subnet_ids[count.index]
}
