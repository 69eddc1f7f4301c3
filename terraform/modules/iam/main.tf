# IRSA roles, each trusted only by one ServiceAccount of the cluster:
#   <name>-pujo-app                      durga-puja/pujo: the photo bucket only
#   <name>-external-secrets              durga-puja/pujo-external-secrets: Pujo's secrets only
#   <name>-aws-load-balancer-controller  kube-system/aws-load-balancer-controller
#   <name>-cluster-autoscaler            kube-system/cluster-autoscaler
#   <name>-alertmanager                  monitoring/kube-prometheus-stack-alertmanager: the alerts topic only

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  irsa = {
    pujo-app                     = "${var.app_namespace}:${var.app_service_account}"
    external-secrets             = "${var.app_namespace}:${var.external_secrets_service_account}"
    aws-load-balancer-controller = "kube-system:aws-load-balancer-controller"
    cluster-autoscaler           = "kube-system:cluster-autoscaler"
    alertmanager                 = "monitoring:kube-prometheus-stack-alertmanager"
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = local.irsa

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:sub"
      values   = ["system:serviceaccount:${each.value}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.irsa

  name                 = "${var.name}-${each.key}"
  description          = "IRSA role of ${each.value} in ${var.cluster_name}"
  assume_role_policy   = data.aws_iam_policy_document.assume[each.key].json
  max_session_duration = 3600

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = {
    pujo-app                     = data.aws_iam_policy_document.app.json
    external-secrets             = data.aws_iam_policy_document.external_secrets.json
    aws-load-balancer-controller = data.aws_iam_policy_document.lb_controller.json
    cluster-autoscaler           = data.aws_iam_policy_document.cluster_autoscaler.json
    alertmanager                 = data.aws_iam_policy_document.alertmanager.json
  }

  name   = each.key
  role   = aws_iam_role.this[each.key].id
  policy = each.value
}

# --- Pujo: its own bucket, its own prefixes ------------------------------------

# What Pujo does with the bucket (src/media/store.rs): HeadBucket for /ready,
# Put/Get/Head/Delete of uploads/<sha256> and thumbnails/<sha256>/..., and a
# listing of those prefixes for `pujo blobs gc`; resumable uploads' chunks and
# multipart uploads under partial/<id>/ (src/media/partial.rs). Every put names the bucket's
# KMS key (PUJO_S3_SSE=aws:kms, PUJO_S3_KMS_KEY_ID), so S3 asks KMS for data
# keys on Pujo's behalf.
data "aws_iam_policy_document" "app" {
  # HeadBucket is authorised as s3:ListBucket and carries no prefix, so this
  # statement has no s3:prefix condition: one would deny /ready's blob_store
  # check and keep every pod unready. Listing shows key names only, and the
  # bucket holds nothing but Pujo's prefixes.
  statement {
    sid       = "HeadAndListBucket"
    actions   = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [var.bucket_arn]
    # Only this account's bucket: the name alone (which the ARN is) could
    # one day belong to another account, if this bucket were deleted.
    condition {
      test     = "StringEquals"
      variable = "s3:ResourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  # GetObject also covers HeadObject (and ranged GETs).
  statement {
    sid = "ReadWritePhotos"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [for p in var.bucket_prefixes : "${var.bucket_arn}/${p}*"]
    condition {
      test     = "StringEquals"
      variable = "s3:ResourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  # SSE-KMS through S3 only: GenerateDataKey to encrypt a put, Decrypt to
  # read (and to reuse the S3 Bucket Key).
  statement {
    sid       = "UseBucketKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.id}.amazonaws.com"]
    }
  }
}

data "aws_region" "current" {}

# --- External Secrets: read Pujo's secrets, nothing else ----------------------

data "aws_iam_policy_document" "external_secrets" {
  statement {
    sid = "ReadPujoSecrets"
    actions = [
      "secretsmanager:GetSecretValue",
      "secretsmanager:DescribeSecret",
      "secretsmanager:ListSecretVersionIds",
    ]
    resources = var.app_secret_arns
  }

  statement {
    sid       = "DecryptPujoSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.id}.amazonaws.com"]
    }
  }
}

# --- Cluster autoscaler: only this cluster's node groups can be resized -------

data "aws_iam_policy_document" "cluster_autoscaler" {
  statement {
    sid = "Discover"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "DescribeOwnNodeGroups"
    actions   = ["eks:DescribeNodegroup"]
    resources = ["arn:${data.aws_partition.current.partition}:eks:*:${data.aws_caller_identity.current.account_id}:nodegroup/${var.cluster_name}/*/*"]
  }

  statement {
    sid = "ResizeOwnNodeGroups"
    actions = [
      "autoscaling:SetDesiredCapacity",
      "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:autoscaling:*:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}"
      values   = ["owned"]
    }
  }
}

# --- Alertmanager: publish to the alerts topic ---------------------------------

# Alertmanager's SNS receiver (deploy/argocd/base/addons/kube-prometheus-stack.yaml)
# signs with this role; the topic is encrypted with the environment's key.
data "aws_iam_policy_document" "alertmanager" {
  statement {
    actions   = ["sns:Publish"]
    resources = [var.alerts_topic_arn]
  }
  statement {
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}
