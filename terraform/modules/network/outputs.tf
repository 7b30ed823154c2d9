output "vpc_id" {
  description = "The VPC the stack runs in."
  value       = local.create ? aws_vpc.this[0].id : var.vpc_id
}

output "vpc_cidr" {
  description = "The VPC's CIDR block; Consul's ports are open only within it."
  value       = local.create ? aws_vpc.this[0].cidr_block : data.aws_vpc.existing[0].cidr_block
}

output "subnet_ids" {
  description = "Subnets, each in its own availability zone: hosts placed round-robin land in different zones."
  value       = local.create ? aws_subnet.this[*].id : var.subnet_ids

  # The two replicas of a Prometheus shard are consecutive hosts; they must not share a zone.
  precondition {
    condition     = length(local.subnet_zones) >= 2 && length(distinct(local.subnet_zones)) == length(local.subnet_zones)
    error_message = "Give at least two subnets (availability_zones, or existing_subnet_ids), each in a different availability zone."
  }
}
