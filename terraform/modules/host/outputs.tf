output "private_ips" {
  description = "Private addresses of the hosts."
  value       = aws_instance.this[*].private_ip
}

output "public_ips" {
  description = "Public addresses of the hosts, where they have one."
  value       = aws_instance.this[*].public_ip
}

output "ids" {
  description = "Instance ids."
  value       = aws_instance.this[*].id
}
