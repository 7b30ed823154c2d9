output "monitoring_public_ip" {
  description = "The monitoring host: Prometheus on :9090, Grafana on :3000, and Ansible's jump host."
  value       = module.hosts["monitoring"].public_ips[0]
}

output "consul_server_ips" {
  description = "Private addresses of the Consul servers (the monitoring host when co-located)."
  value       = local.colocate_consul ? module.hosts["monitoring"].private_ips : module.hosts["consul"].private_ips
}

output "oracle_node_ips" {
  description = "Private addresses of the oracle nodes."
  value       = module.hosts["oracle"].private_ips
}

output "backup_bucket" {
  description = "S3 bucket for Consul snapshots and backups."
  value       = module.storage.bucket_name
}

output "ansible_command" {
  description = "What to run next."
  value       = "ansible-playbook site.yml -i inventory/aws"
}
