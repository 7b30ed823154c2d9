variable "name" {
  type        = string
  description = "Name prefix of the network's resources."
}

variable "vpc_id" {
  type        = string
  description = "An existing VPC to use; empty creates one."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets of the existing VPC, each in a different availability zone."
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of a new VPC."
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones of a new VPC's subnets."
}

variable "flow_log_bucket_arn" {
  type        = string
  description = "S3 bucket ARN that receives the VPC's rejected-traffic flow logs."
}
