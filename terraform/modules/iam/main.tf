# Instance profiles. Every host may call ec2:DescribeInstances, for Consul's cloud auto-join; the monitoring
# hosts' own profile adds Thanos's prefix of the bucket, and nothing else of it.
locals {
  # "host" is the profile of the Consul servers and oracle nodes.
  profiles = toset(["host", "monitoring"])
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "auto_join" {
  statement {
    sid = "ConsulCloudAutoJoin"
    # DescribeInstances supports no resource-level restriction.
    actions   = ["ec2:DescribeInstances"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "thanos" {
  statement {
    sid       = "ThanosList"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.thanos_prefix, "${var.thanos_prefix}/*"]
    }
  }
  statement {
    sid       = "ThanosBlocks"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.bucket_arn}/${var.thanos_prefix}/*"]
  }
  statement {
    sid       = "ThanosBlocksEncryption"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    # The key also encrypts the volumes; the hosts may use it only through S3.
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.bucket_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each           = local.profiles
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "auto_join" {
  for_each = aws_iam_role.this
  name     = "consul-cloud-auto-join"
  role     = each.value.id
  policy   = data.aws_iam_policy_document.auto_join.json
}

resource "aws_iam_role_policy" "thanos" {
  name   = "thanos-object-storage"
  role   = aws_iam_role.this["monitoring"].id
  policy = data.aws_iam_policy_document.thanos.json
}

resource "aws_iam_instance_profile" "this" {
  for_each = aws_iam_role.this
  name     = "${var.name}-${each.key}"
  role     = each.value.name
}

# The shared role and profile from before the monitoring hosts had their own, kept in place.
moved {
  from = aws_iam_role.host
  to   = aws_iam_role.this["host"]
}

moved {
  from = aws_iam_role_policy.auto_join
  to   = aws_iam_role_policy.auto_join["host"]
}

moved {
  from = aws_iam_instance_profile.host
  to   = aws_iam_instance_profile.this["host"]
}
