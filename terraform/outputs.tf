output "monitoring_public_ip" {
  description = "The first monitoring host: Ansible's jump host, and Prometheus on :9090, Grafana on :3000, Thanos Query on :10905."
  value       = module.hosts["monitoring"].public_ips[0]
}

output "monitoring_public_ips" {
  description = "Every monitoring host, two per Prometheus shard: replicas a and b of shard 0, then of shard 1, and so on."
  value       = module.hosts["monitoring"].public_ips
}

output "consul_server_ips" {
  description = "Private addresses of the Consul servers (the first monitoring host when co-located)."
  value       = local.colocate_consul ? slice(module.hosts["monitoring"].private_ips, 0, 1) : module.hosts["consul"].private_ips
}

output "oracle_node_ips" {
  description = "Private addresses of the oracle nodes."
  value       = module.hosts["oracle"].private_ips
}

output "backup_bucket" {
  description = "S3 bucket for Consul snapshots and backups."
  value       = module.storage.bucket_name
}

# Named as the inventory variables they go to, in inventory/aws/group_vars/monitoring/main.yml.
output "thanos_objstore_s3_bucket" {
  description = "The bucket of Thanos's blocks (the backups bucket)."
  value       = module.storage.bucket_name
}

output "thanos_objstore_prefix" {
  description = "The key prefix of Thanos's blocks in that bucket, the only one the monitoring hosts may use."
  value       = module.storage.thanos_prefix
}

output "thanos_objstore_s3_region" {
  description = "The bucket's region."
  value       = module.storage.bucket_region
}

output "ansible_command" {
  description = "What to run next."
  value       = "ansible-playbook site.yml -i inventory/aws"
}
