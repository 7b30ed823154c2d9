output "vpc_id" {
  description = "The VPC the stack runs in."
  value       = local.create ? aws_vpc.this[0].id : var.vpc_id
}

output "vpc_cidr" {
  description = "The VPC's CIDR block; Consul's ports are open only within it."
  value       = local.create ? aws_vpc.this[0].cidr_block : data.aws_vpc.existing[0].cidr_block
}

output "subnet_ids" {
  description = "Subnets across availability zones."
  value       = local.create ? aws_subnet.this[*].id : var.subnet_ids
}
