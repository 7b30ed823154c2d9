variable "bucket_name" {
  type        = string
  description = "Globally unique name of the backups bucket."
}
