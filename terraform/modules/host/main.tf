# A group of identical hosts: IMDSv2 only, encrypted root and data volumes, tagged for the inventory.
resource "aws_instance" "this" {
  #checkov:skip=CKV_AWS_88:Only the monitoring hosts get a public address (associate_public_ip): they serve the UIs to admin_cidrs, and the first is Ansible's jump host.
  count                       = var.instance_count
  ami                         = var.ami_id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_ids[count.index % length(var.subnet_ids)]
  vpc_security_group_ids      = var.security_group_ids
  iam_instance_profile        = var.instance_profile
  key_name                    = var.ssh_key_name
  associate_public_ip_address = var.associate_public_ip
  monitoring                  = true
  ebs_optimized               = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    encrypted   = true
    kms_key_id  = var.kms_key_arn
    volume_type = "gp3"
    volume_size = 20
  }

  tags = merge({
    Name          = "${var.name}-${count.index + 1}"
    "masa:role"   = var.role
    "masa:consul" = var.consul_role
  }, try(var.instance_tags[count.index], {}))
}

resource "aws_ebs_volume" "data" {
  count             = var.instance_count
  availability_zone = aws_instance.this[count.index].availability_zone
  size              = var.data_volume_size
  type              = "gp3"
  encrypted         = true
  kms_key_id        = var.kms_key_arn
  tags              = { Name = "${var.name}-${count.index + 1}-data" }
}

resource "aws_volume_attachment" "data" {
  count       = var.instance_count
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data[count.index].id
  instance_id = aws_instance.this[count.index].id
}
