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
  source = "./modules/iam"
  name   = var.name
}

module "storage" {
  source      = "./modules/storage"
  bucket_name = var.backup_bucket_name
}

module "monitoring" {
  source              = "./modules/host"
  name                = "${var.name}-monitoring"
  instance_count      = 1
  role                = "monitoring"
  consul_role         = local.colocate_consul ? "consul-server" : "consul-agent"
  ami_id              = local.ami_id
  instance_type       = var.instance_types["monitoring"]
  subnet_ids          = module.network.subnet_ids
  security_group_ids  = [module.security.consul_sg_id, module.security.monitoring_sg_id, module.security.node_sg_id]
  instance_profile    = module.iam.instance_profile_name
  ssh_key_name        = var.ssh_key_name
  data_volume_size    = var.data_volume_size["monitoring"]
  associate_public_ip = true
}

module "consul_servers" {
  source              = "./modules/host"
  name                = "${var.name}-consul"
  instance_count      = var.consul_server_count
  role                = "consul"
  consul_role         = "consul-server"
  ami_id              = local.ami_id
  instance_type       = var.instance_types["consul"]
  subnet_ids          = module.network.subnet_ids
  security_group_ids  = [module.security.consul_sg_id, module.security.node_sg_id]
  instance_profile    = module.iam.instance_profile_name
  ssh_key_name        = var.ssh_key_name
  data_volume_size    = var.data_volume_size["consul"]
  kms_key_arn         = module.storage.kms_key_arn
  associate_public_ip = false
}

module "oracle_nodes" {
  source              = "./modules/host"
  name                = "${var.name}-oracle"
  instance_count      = var.oracle_node_count
  role                = "oracle"
  consul_role         = "consul-agent"
  ami_id              = local.ami_id
  instance_type       = var.instance_types["oracle"]
  subnet_ids          = module.network.subnet_ids
  security_group_ids  = [module.security.consul_sg_id, module.security.node_sg_id]
  instance_profile    = module.iam.instance_profile_name
  ssh_key_name        = var.ssh_key_name
  data_volume_size    = var.data_volume_size["oracle"]
  kms_key_arn         = module.storage.kms_key_arn
  associate_public_ip = false
}

locals {
  ami_id = var.ami_id != "" ? var.ami_id : data.aws_ami.debian[0].id
}
