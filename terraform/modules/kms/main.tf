# One customer-managed key for the environment's data at rest: EKS secrets,
# RDS, ElastiCache, the photo bucket, Secrets Manager and CloudWatch Logs.
# Rotated yearly by AWS.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_iam_policy_document" "key" {
  # In a key policy, Resource "*" means this key only, and the account-root
  # statement is AWS's default that delegates use of the key to IAM policies.
  #checkov:skip=CKV_AWS_109:Key policy: "*" is this key; root delegates to IAM (AWS default).
  #checkov:skip=CKV_AWS_111:Key policy: "*" is this key; root delegates to IAM (AWS default).
  #checkov:skip=CKV_AWS_356:Key policy: "*" is this key; root delegates to IAM (AWS default).
  # The account (its IAM policies) administers and uses the key; without
  # this statement the key could become unmanageable.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the VPC flow log and EKS control plane log
  # groups of this account with the key.
  statement {
    sid = "CloudWatchLogs"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.id}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
