variable "name" {
  type        = string
  description = "Name prefix of the hosts; each gets -1, -2, ..."
}

variable "instance_count" {
  type        = number
  description = "How many hosts."
}

variable "role" {
  type        = string
  description = "The masa:role tag: monitoring, consul or oracle."
}

variable "consul_role" {
  type        = string
  description = "The masa:consul tag: consul-server (cloud auto-join finds these) or consul-agent."
}

variable "ami_id" {
  type        = string
  description = "The hosts' AMI."
}

variable "instance_type" {
  type        = string
  description = "The hosts' instance type."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets the hosts are spread across."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the hosts."
}

variable "instance_profile" {
  type        = string
  description = "Instance profile name."
}

variable "ssh_key_name" {
  type        = string
  description = "EC2 key pair for SSH."
}

variable "data_volume_size" {
  type        = number
  description = "Size in GiB of each host's encrypted data volume."
}

variable "associate_public_ip" {
  type        = bool
  description = "Whether the hosts get a public address (only the monitoring hosts; the first is the jump host)."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key that encrypts the root and data volumes."
}

variable "instance_tags" {
  type        = list(map(string))
  description = "Tags of each host by index (element i tags host i), over the group's; hosts past the list's end get none."
  default     = []
}
