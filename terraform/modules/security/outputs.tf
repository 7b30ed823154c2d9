output "consul_sg_id" {
  description = "Security group for Consul traffic within the VPC."
  value       = aws_security_group.consul.id
}

output "monitoring_sg_id" {
  description = "Security group of the monitoring hosts (Prometheus); the source of node scrapes."
  value       = aws_security_group.monitoring.id
}

output "node_sg_id" {
  description = "Security group that admits node metrics from Prometheus only."
  value       = aws_security_group.node.id
}
