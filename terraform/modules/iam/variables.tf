variable "name" {
  type        = string
  description = "Name prefix of the role and instance profile."
}

variable "bucket_arn" {
  type        = string
  description = "ARN of the bucket that holds Thanos's blocks."
}

variable "bucket_region" {
  type        = string
  description = "The bucket's region, where S3 uses the KMS key on the hosts' behalf."
}

variable "thanos_prefix" {
  type        = string
  description = "Key prefix of Thanos's blocks: the only part of the bucket the monitoring hosts may use."
}

variable "kms_key_arn" {
  type        = string
  description = "The KMS key that encrypts the bucket."
}
