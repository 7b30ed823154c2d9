output "instance_profile_name" {
  description = "Instance profile every host runs with."
  value       = aws_iam_instance_profile.host.name
}
