# IRSA roles, each trusted only by one ServiceAccount of the cluster:
#   <name>-pujo-app                      durga-puja/pujo: the photo bucket only
#   <name>-external-secrets              durga-puja/pujo-external-secrets: Pujo's secrets only
#   <name>-aws-load-balancer-controller  kube-system/aws-load-balancer-controller
#   <name>-cluster-autoscaler            kube-system/cluster-autoscaler

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  irsa = {
    pujo-app                     = "${var.app_namespace}:${var.app_service_account}"
    external-secrets             = "${var.app_namespace}:${var.external_secrets_service_account}"
    aws-load-balancer-controller = "kube-system:aws-load-balancer-controller"
    cluster-autoscaler           = "kube-system:cluster-autoscaler"
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
  }

  name   = each.key
  role   = aws_iam_role.this[each.key].id
  policy = each.value
}

# --- Pujo: its own bucket, its own prefixes ------------------------------------

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = concat([""], [for p in var.bucket_prefixes : "${p}*"])
    }
  }

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
  }

  statement {
    sid       = "UseBucketKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.region}.amazonaws.com"]
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
      values   = ["secretsmanager.${data.aws_region.current.region}.amazonaws.com"]
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
