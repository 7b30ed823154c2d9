variable "name" {
  type        = string
  description = "Name prefix of the security groups."
}

variable "vpc_id" {
  type        = string
  description = "The VPC of the security groups."
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's CIDR block, the only source of Consul traffic."
}

variable "admin_cidrs" {
  type        = list(string)
  description = "The operators' networks, the only source of UI and SSH traffic."
}
