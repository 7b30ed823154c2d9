output "instance_profile_name" {
  description = "Instance profile of the Consul servers and oracle nodes: ec2:DescribeInstances only."
  value       = aws_iam_instance_profile.this["host"].name
}

output "monitoring_instance_profile_name" {
  description = "Instance profile of the monitoring hosts: ec2:DescribeInstances, and Thanos's prefix of the bucket."
  value       = aws_iam_instance_profile.this["monitoring"].name
}
