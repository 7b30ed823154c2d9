variable "name" {
  type        = string
  description = "Name prefix of the role and instance profile."
}
