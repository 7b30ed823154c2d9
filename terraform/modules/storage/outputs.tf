output "bucket_name" {
  description = "The backups bucket, for consul_snapshot's S3 upload and Thanos's blocks."
  value       = aws_s3_bucket.backups.id
}

output "kms_key_arn" {
  description = "The customer-managed key for backups and the hosts' volumes."
  value       = aws_kms_key.backups.arn
}

output "bucket_arn" {
  description = "The backups bucket's ARN."
  value       = aws_s3_bucket.backups.arn
}

output "bucket_region" {
  description = "The backups bucket's region."
  value       = aws_s3_bucket.backups.region
}

output "thanos_prefix" {
  description = "Key prefix of Thanos's blocks in the bucket."
  value       = var.thanos_prefix
}
