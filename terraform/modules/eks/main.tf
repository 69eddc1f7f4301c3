# EKS as the seed describes it: private + public endpoint, IAM
# authentication, control plane logging, and two managed node groups in the
# private subnets (on-demand primary, optional spot), plus IRSA (OIDC).

data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
}

# --- Control plane ------------------------------------------------------------

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.cluster_name}-cluster"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

# EKS encrypts Kubernetes Secrets with the KMS key as the cluster role.
data "aws_iam_policy_document" "cluster_encryption" {
  statement {
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ListGrants",
      "kms:DescribeKey",
    ]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "cluster_encryption" {
  name   = "secrets-encryption"
  role   = aws_iam_role.cluster.id
  policy = data.aws_iam_policy_document.cluster_encryption.json
}

# Created before the cluster so that retention and encryption apply from the
# first log line (EKS would otherwise create it without either).
resource "aws_cloudwatch_log_group" "cluster" {
  name              = "/aws/eks/${var.cluster_name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_eks_cluster" "this" {
  #checkov:skip=CKV_AWS_39:The seed asks for a private + public endpoint; the public one is limited to endpoint_public_access_cidrs.
  #checkov:skip=CKV_AWS_38:endpoint_public_access_cidrs has no default and its validation rejects 0.0.0.0/0; checkov cannot see that.
  name     = var.cluster_name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  vpc_config {
    subnet_ids              = var.subnet_ids
    security_group_ids      = [var.control_plane_security_group_id]
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = var.endpoint_public_access_cidrs
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = var.kms_key_arn
    }
  }

  # Cluster admins are exactly admin_principal_arns (access entries below).
  # Bootstrapping the creator as well would make a second, hidden admin
  # entry for the principal running Terraform, and the first apply would
  # fail with 409 ResourceInUseException when that principal is also in
  # admin_principal_arns (as the operators' role usually is).
  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = false
  }

  # Standard support only: no extended-support charges; a version that
  # reaches its end of standard support is upgraded by AWS, so upgrade first
  # (docs/OPERATIONS.md, "Upgrading Kubernetes").
  upgrade_policy {
    support_type = "STANDARD"
  }

  tags = var.tags

  lifecycle {
    # The flag only acts when the cluster is created, and changing it
    # replaces the cluster: a cluster created with it keeps it, and its
    # hidden entry is removed by hand (docs/DEPLOYMENT.md, 3.2).
    ignore_changes = [access_config[0].bootstrap_cluster_creator_admin_permissions]
  }

  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_iam_role_policy.cluster_encryption,
    aws_cloudwatch_log_group.cluster,
  ]
}

resource "aws_eks_access_entry" "admin" {
  for_each = toset(var.admin_principal_arns)

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
  type          = "STANDARD"

  tags = var.tags
}

resource "aws_eks_access_policy_association" "admin" {
  for_each = toset(var.admin_principal_arns)

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }

  depends_on = [aws_eks_access_entry.admin]
}

# --- IRSA: the cluster's OIDC issuer as an IAM identity provider --------------

# No thumbprint: IAM trusts the EKS issuer's certificate through its own
# root CAs and ignores thumbprints for it, so none is fetched at plan time
# (thumbprint_list is optional since AWS provider 5.81).
resource "aws_iam_openid_connect_provider" "this" {
  url            = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]

  tags = var.tags
}

# --- Nodes --------------------------------------------------------------------

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.cluster_name}-node"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    # Session Manager instead of SSH: no key pairs, no port 22.
    "AmazonSSMManagedInstanceCore",
  ])

  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

locals {
  all_node_groups = {
    on-demand = {
      enabled        = true
      capacity_type  = "ON_DEMAND"
      instance_types = var.on_demand_node_group.instance_types
      min_size       = var.on_demand_node_group.min_size
      desired_size   = var.on_demand_node_group.desired_size
      max_size       = var.on_demand_node_group.max_size
      disk_size_gb   = var.on_demand_node_group.disk_size_gb
    }
    spot = {
      enabled        = var.spot_node_group.enabled
      capacity_type  = "SPOT"
      instance_types = var.spot_node_group.instance_types
      min_size       = var.spot_node_group.min_size
      desired_size   = var.spot_node_group.desired_size
      max_size       = var.spot_node_group.max_size
      disk_size_gb   = var.spot_node_group.disk_size_gb
    }
  }
  node_groups = { for name, ng in local.all_node_groups : name => ng if ng.enabled }
}

# The launch template carries what a managed node group cannot set itself:
# the seed's worker security group (instead of the EKS-made cluster group),
# the encrypted gp3 root volume, and IMDSv2 with a hop limit of 1 so pods
# cannot borrow the node's IAM role (they use IRSA).
resource "aws_launch_template" "node" {
  for_each = local.node_groups

  name_prefix            = "${var.cluster_name}-${each.key}-"
  description            = "EKS ${each.key} nodes of ${var.cluster_name}"
  vpc_security_group_ids = [var.node_security_group_id]
  update_default_version = true

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = each.value.disk_size_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.cluster_name}-${each.key}" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = "${var.cluster_name}-${each.key}" })
  }

  tags = var.tags
}

resource "aws_eks_node_group" "this" {
  for_each = local.node_groups

  cluster_name = aws_eks_cluster.this.name
  # A prefix, not a fixed name: a change that replaces a node group (AMI
  # type, instance types, capacity type, subnets) creates the new group
  # first and drains the old one after, instead of dropping every node.
  node_group_name_prefix = "${var.cluster_name}-${each.key}-"
  node_role_arn          = aws_iam_role.node.arn
  subnet_ids             = var.subnet_ids
  version                = var.kubernetes_version
  ami_type               = "AL2023_x86_64_STANDARD"
  capacity_type          = each.value.capacity_type
  instance_types         = each.value.instance_types

  launch_template {
    id      = aws_launch_template.node[each.key].id
    version = aws_launch_template.node[each.key].latest_version
  }

  scaling_config {
    min_size     = each.value.min_size
    desired_size = each.value.desired_size
    max_size     = each.value.max_size
  }

  update_config {
    max_unavailable = 1
  }

  labels = {
    "pujo.app/capacity" = lower(replace(each.value.capacity_type, "_", "-"))
  }

  # Managed node groups tag their Auto Scaling groups with
  # k8s.io/cluster-autoscaler/enabled and k8s.io/cluster-autoscaler/<cluster>,
  # which the cluster autoscaler discovers them by.
  tags = var.tags

  lifecycle {
    create_before_destroy = true
    # The cluster autoscaler owns the current size.
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [
    aws_iam_role_policy_attachment.node,
    aws_eks_addon.before_nodes,
  ]
}

# --- Add-ons ------------------------------------------------------------------

resource "aws_eks_addon" "before_nodes" {
  for_each = {
    # The network policy agent enforces the NetworkPolicy objects of
    # deploy/kubernetes (off by default).
    vpc-cni    = jsonencode({ enableNetworkPolicy = "true" })
    kube-proxy = null
  }

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  configuration_values        = each.value
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags
}

resource "aws_eks_addon" "coredns" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "coredns"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags

  depends_on = [aws_eks_node_group.this]
}

# EBS volumes for Prometheus and Grafana (kube-prometheus-stack).
data "aws_iam_policy_document" "ebs_csi_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${replace(aws_iam_openid_connect_provider.this.url, "https://", "")}:sub"
      values   = ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    }
    condition {
      test     = "StringEquals"
      variable = "${replace(aws_iam_openid_connect_provider.this.url, "https://", "")}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ebs_csi" {
  name               = "${var.cluster_name}-ebs-csi"
  assume_role_policy = data.aws_iam_policy_document.ebs_csi_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "ebs_csi" {
  role       = aws_iam_role.ebs_csi.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
}

# EKS 1.30 and later make no default StorageClass: the class these
# volumes use, gp3 (encrypted, the default), comes with the ArgoCD
# bootstrap (deploy/argocd/base/storageclass.yaml), and kube-prometheus-stack
# names it.
resource "aws_eks_addon" "ebs_csi" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "aws-ebs-csi-driver"
  service_account_role_arn    = aws_iam_role.ebs_csi.arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags

  depends_on = [aws_eks_node_group.this]
}

# --- Container logs -----------------------------------------------------------

# The CloudWatch Observability add-on runs Fluent Bit on every node and
# ships container logs off it (Pujo's JSON lines in
# /aws/containerinsights/<cluster>/application), so they outlive the node
# and the pod. The groups are made here first, with retention and the KMS
# key, as the control plane's is.
resource "aws_cloudwatch_log_group" "containers" {
  for_each = toset(["application", "dataplane", "host", "performance"])

  name              = "/aws/containerinsights/${var.cluster_name}/${each.key}"
  retention_in_days = var.container_log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "cloudwatch_agent_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${replace(aws_iam_openid_connect_provider.this.url, "https://", "")}:sub"
      values   = ["system:serviceaccount:amazon-cloudwatch:cloudwatch-agent"]
    }
    condition {
      test     = "StringEquals"
      variable = "${replace(aws_iam_openid_connect_provider.this.url, "https://", "")}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cloudwatch_agent" {
  name               = "${var.cluster_name}-cloudwatch-agent"
  assume_role_policy = data.aws_iam_policy_document.cloudwatch_agent_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "cloudwatch_agent" {
  role       = aws_iam_role.cloudwatch_agent.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/CloudWatchAgentServerPolicy"
}

resource "aws_eks_addon" "cloudwatch_observability" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "amazon-cloudwatch-observability"
  service_account_role_arn    = aws_iam_role.cloudwatch_agent.arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags

  depends_on = [
    aws_eks_node_group.this,
    aws_cloudwatch_log_group.containers,
  ]
}
