variable "bucket_name" {
  type        = string
  description = "Globally unique name of the backups bucket."
}

variable "thanos_prefix" {
  type        = string
  description = "Key prefix of Thanos's blocks, without slashes at either end."
}
