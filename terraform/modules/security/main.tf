# Least privilege: Consul only within the VPC, UIs only from the admin networks, node metrics
# only from the Prometheus (monitoring) group, and the monitoring hosts' cluster traffic only among themselves.
locals {
  consul_ports = {
    server_rpc = { port = 8300, protocol = "tcp" }
    lan_tcp    = { port = 8301, protocol = "tcp" }
    lan_udp    = { port = 8301, protocol = "udp" }
    wan_tcp    = { port = 8302, protocol = "tcp" }
    wan_udp    = { port = 8302, protocol = "udp" }
    https_api  = { port = 8501, protocol = "tcp" }
    dns_tcp    = { port = 8600, protocol = "tcp" }
    dns_udp    = { port = 8600, protocol = "udp" }
  }
  admin_ports = {
    prometheus   = 9090
    grafana      = 3000
    consul_ui    = 8500
    consul_tls   = 8501
    ssh          = 22
    thanos_query = 10905
  }
  # Between the monitoring hosts only.
  monitoring_peer_ports = {
    alertmanager_api        = { port = 9093, protocol = "tcp", purpose = "Alertmanager API: each Prometheus alerts every Alertmanager" }
    alertmanager_gossip_tcp = { port = 9094, protocol = "tcp", purpose = "Alertmanager cluster gossip (TCP)" }
    alertmanager_gossip_udp = { port = 9094, protocol = "udp", purpose = "Alertmanager cluster gossip (UDP)" }
    thanos_sidecar_grpc     = { port = 10901, protocol = "tcp", purpose = "Thanos sidecar gRPC: Thanos Query reads each Prometheus" }
    thanos_store_grpc       = { port = 10903, protocol = "tcp", purpose = "Thanos store gateway gRPC: Thanos Query reads the bucket" }
  }
  node_metric_ports = {
    node_exporter = 9100
    oracle_sdk    = 9200
  }
}

resource "aws_security_group" "consul" {
  #checkov:skip=CKV2_AWS_5:Attached to the instances by the root module, through this module's outputs.
  name        = "${var.name}-consul"
  description = "Consul gossip, RPC, HTTPS API and DNS, within the VPC only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "consul" {
  for_each          = local.consul_ports
  security_group_id = aws_security_group.consul.id
  description       = "Consul ${each.key} from within the VPC"
  cidr_ipv4         = var.vpc_cidr
  from_port         = each.value.port
  to_port           = each.value.port
  ip_protocol       = each.value.protocol
}

resource "aws_security_group" "monitoring" {
  #checkov:skip=CKV2_AWS_5:Attached to the instances by the root module, through this module's outputs.
  name        = "${var.name}-monitoring"
  description = "Prometheus, Grafana and Consul UIs and SSH, from the admin networks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "admin" {
  for_each          = { for pair in setproduct(keys(local.admin_ports), var.admin_cidrs) : "${pair[0]}-${pair[1]}" => pair }
  security_group_id = aws_security_group.monitoring.id
  description       = "${each.value[0]} from an admin network"
  cidr_ipv4         = each.value[1]
  from_port         = local.admin_ports[each.value[0]]
  to_port           = local.admin_ports[each.value[0]]
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_ingress_rule" "monitoring_peers" {
  for_each                     = local.monitoring_peer_ports
  security_group_id            = aws_security_group.monitoring.id
  description                  = "${each.value.purpose}, from the monitoring hosts only"
  referenced_security_group_id = aws_security_group.monitoring.id
  from_port                    = each.value.port
  to_port                      = each.value.port
  ip_protocol                  = each.value.protocol
}

resource "aws_security_group" "node" {
  #checkov:skip=CKV2_AWS_5:Attached to the instances by the root module, through this module's outputs.
  name        = "${var.name}-node"
  description = "Node metrics (mTLS) from Prometheus only; SSH from the monitoring host as a jump host"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "metrics" {
  for_each                     = local.node_metric_ports
  security_group_id            = aws_security_group.node.id
  description                  = "${each.key} from the Prometheus security group"
  referenced_security_group_id = aws_security_group.monitoring.id
  from_port                    = each.value
  to_port                      = each.value
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_ingress_rule" "ssh_from_jump_host" {
  #checkov:skip=CKV_AWS_24:The source is the monitoring security group (referenced_security_group_id), not 0.0.0.0/0.
  security_group_id            = aws_security_group.node.id
  description                  = "SSH from the monitoring host, Ansible's jump host"
  referenced_security_group_id = aws_security_group.monitoring.id
  from_port                    = 22
  to_port                      = 22
  ip_protocol                  = "tcp"
}

# Hosts pull packages and images, and Consul's cloud auto-join calls the EC2 API.
resource "aws_vpc_security_group_egress_rule" "all" {
  for_each          = { consul = aws_security_group.consul.id, monitoring = aws_security_group.monitoring.id, node = aws_security_group.node.id }
  security_group_id = each.value
  description       = "Outbound for packages, images and the EC2 API"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}
