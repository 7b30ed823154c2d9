variable "region" {
  type        = string
  description = "AWS region for the whole stack."
  default     = "eu-west-1"
}

variable "name" {
  type        = string
  description = "Name prefix of every resource, and the masa:stack tag the Ansible inventory selects on."
  default     = "monitoring"
}

variable "vpc_id" {
  type        = string
  description = "An existing VPC to use; empty creates a new one."
  default     = ""
}

variable "existing_subnet_ids" {
  type        = list(string)
  description = "Subnets of the existing VPC, each in a different availability zone (at least two); required when vpc_id is set."
  default     = []
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of a new VPC; Consul's ports are open only within it."
  default     = "10.42.0.0/16"
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones for the subnets of a new VPC; at least two, so that the replicas of a Prometheus shard run in different zones."
  default     = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "admin_cidrs" {
  type        = list(string)
  description = "CIDR blocks allowed to reach SSH and the Prometheus (9090), Grafana (3000), Thanos Query (10905) and Consul (8500/8501) UIs."

  validation {
    condition     = length(var.admin_cidrs) > 0 && !contains(var.admin_cidrs, "0.0.0.0/0")
    error_message = "admin_cidrs must name the operators' networks; 0.0.0.0/0 is refused."
  }
}

variable "monitoring_shard_count" {
  type        = number
  description = "How many Prometheus shards; each runs on a pair of monitoring hosts in two availability zones."
  default     = 1

  validation {
    condition     = var.monitoring_shard_count >= 1 && floor(var.monitoring_shard_count) == var.monitoring_shard_count
    error_message = "monitoring_shard_count must be a whole number, at least 1: every shard is a pair of monitoring hosts."
  }
}

variable "oracle_node_count" {
  type        = number
  description = "How many oracle nodes to create."
  default     = 3
}

variable "consul_server_count" {
  type        = number
  description = "Dedicated Consul servers: 3 for a quorum, or 0 to co-locate one server on the monitoring host."
  default     = 3

  validation {
    condition     = contains([0, 3, 5], var.consul_server_count)
    error_message = "consul_server_count must be 0 (co-located), 3 or 5."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI for every host; empty picks the newest official Debian 12 image."
  default     = ""
}

variable "ssh_key_name" {
  type        = string
  description = "An existing EC2 key pair for Ansible's SSH access."
}

variable "instance_types" {
  type        = map(string)
  description = "Instance type per host group: monitoring, consul and oracle."
  default = {
    monitoring = "t3.large"
    consul     = "t3.small"
    oracle     = "t3.medium"
  }
}

variable "data_volume_size" {
  type        = map(number)
  description = "Size in GiB of the encrypted data volume per host group (Prometheus TSDB, Consul data)."
  default = {
    monitoring = 100
    consul     = 20
    oracle     = 20
  }
}

variable "backup_bucket_name" {
  type        = string
  description = "Name of the S3 bucket for Consul snapshots, backups and Thanos's blocks; it must be globally unique."
}

variable "thanos_bucket_prefix" {
  type        = string
  description = "Key prefix of Thanos's blocks in the backups bucket; only the monitoring hosts may read and write under it."
  default     = "thanos"

  validation {
    condition     = var.thanos_bucket_prefix != "" && trim(var.thanos_bucket_prefix, "/") == var.thanos_bucket_prefix
    error_message = "thanos_bucket_prefix must be a non-empty key prefix without a leading or trailing slash, such as \"thanos\"."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource."
  default     = {}
}
