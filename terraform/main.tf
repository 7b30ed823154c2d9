locals {
  common_tags = merge(var.tags, {
    "masa:stack" = var.name
  })
  colocate_consul = var.consul_server_count == 0
}

data "aws_ami" "debian" {
  count       = var.ami_id == "" ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian's official account

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
}

module "network" {
  source              = "./modules/network"
  name                = var.name
  vpc_id              = var.vpc_id
  subnet_ids          = var.existing_subnet_ids
  vpc_cidr            = var.vpc_cidr
  availability_zones  = var.availability_zones
  flow_log_bucket_arn = module.storage.bucket_arn
}

module "security" {
  source      = "./modules/security"
  name        = var.name
  vpc_id      = module.network.vpc_id
  vpc_cidr    = module.network.vpc_cidr
  admin_cidrs = var.admin_cidrs
}

module "iam" {
  source        = "./modules/iam"
  name          = var.name
  bucket_arn    = module.storage.bucket_arn
  bucket_region = module.storage.bucket_region
  thanos_prefix = module.storage.thanos_prefix
  kms_key_arn   = module.storage.kms_key_arn
}

module "storage" {
  source        = "./modules/storage"
  bucket_name   = var.backup_bucket_name
  thanos_prefix = var.thanos_bucket_prefix
}

locals {
  # Two Prometheus replicas per shard. Shard s runs on hosts 2s and 2s+1, consecutive, so the host module
  # places them in different subnets, hence zones (the network module keeps one subnet per zone).
  monitoring_host_count = 2 * var.monitoring_shard_count
  monitoring_instance_tags = [for index in range(local.monitoring_host_count) : merge(
    {
      "masa:shard"       = tostring(floor(index / 2))
      "masa:replica"     = index % 2 == 0 ? "a" : "b"
      "masa:shard-count" = tostring(var.monitoring_shard_count)
    },
    # One compactor per bucket: two would compact the same blocks.
    index == 0 ? { "masa:thanos-compactor" = "true" } : {},
    # Co-located Consul stays a single server: two would need each other for a quorum.
    index == 0 && local.colocate_consul ? { "masa:consul" = "consul-server" } : {},
  )]
}

locals {
  # Every group of hosts: how many, its masa:consul tag, its security groups, its instance profile, whether it
  # is reachable from outside, and tags of its own per host.
  host_groups = {
    monitoring = {
      count            = local.monitoring_host_count
      consul_role      = "consul-agent"
      groups           = [module.security.consul_sg_id, module.security.monitoring_sg_id, module.security.node_sg_id]
      instance_profile = module.iam.monitoring_instance_profile_name
      public           = true
      instance_tags    = local.monitoring_instance_tags
    }
    consul = {
      count            = var.consul_server_count
      consul_role      = "consul-server"
      groups           = [module.security.consul_sg_id, module.security.node_sg_id]
      instance_profile = module.iam.instance_profile_name
      public           = false
      instance_tags    = []
    }
    oracle = {
      count            = var.oracle_node_count
      consul_role      = "consul-agent"
      groups           = [module.security.consul_sg_id, module.security.node_sg_id]
      instance_profile = module.iam.instance_profile_name
      public           = false
      instance_tags    = []
    }
  }
}

module "hosts" {
  source              = "./modules/host"
  for_each            = local.host_groups
  name                = "${var.name}-${each.key}"
  instance_count      = each.value.count
  role                = each.key
  consul_role         = each.value.consul_role
  ami_id              = local.ami_id
  instance_type       = var.instance_types[each.key]
  subnet_ids          = module.network.subnet_ids
  security_group_ids  = each.value.groups
  instance_profile    = each.value.instance_profile
  ssh_key_name        = var.ssh_key_name
  data_volume_size    = var.data_volume_size[each.key]
  kms_key_arn         = module.storage.kms_key_arn
  associate_public_ip = each.value.public
  instance_tags       = each.value.instance_tags
}

locals {
  ami_id = var.ami_id != "" ? var.ami_id : data.aws_ami.debian[0].id
}
