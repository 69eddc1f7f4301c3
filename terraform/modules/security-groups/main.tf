# The seed's security group table, rule for rule:
#
#   ALB            in : 0.0.0.0/0 -> 80, 443          out: nodes -> 30000-32767
#   EKS nodes      in : ALB -> 30000-32767; self -> all; control plane -> 443, 10250
#                  out: 0.0.0.0/0 -> all (through the NAT gateways)
#   RDS            in : nodes -> 5432                 out: none
#   ElastiCache    in : nodes -> 6379                 out: none
#   Control plane  in : nodes -> 443                  out: nodes -> 443, 10250
#
# Two additions, each as egress of one group and ingress of the other:
# - ALB -> nodes on var.app_port: with target-type ip the ALB sends traffic
#   to pod IPs (node ENI addresses) on the container port, not a NodePort.
# - control plane -> nodes on 9443: the AWS Load Balancer Controller's
#   admission webhook. (The other add-ons' webhooks listen on 10250 or 443,
#   which the table already allows.)
# Terraform removes AWS's default allow-all egress rule from every group it
# creates, so "out: none" really is none.

locals {
  groups = {
    alb           = "Application Load Balancer: HTTP/HTTPS from the internet"
    nodes         = "EKS worker nodes and the pods on them"
    control_plane = "EKS control plane ENIs"
    rds           = "RDS PostgreSQL: only from the EKS nodes"
    redis         = "ElastiCache Redis: only from the EKS nodes"
  }
  group_names = {
    alb           = "${var.name}-alb"
    nodes         = "${var.name}-eks-nodes"
    control_plane = "${var.name}-eks-control-plane"
    rds           = "${var.name}-rds"
    redis         = "${var.name}-redis"
  }

  ingress = {
    nodes_nodeport  = { sg = "nodes", from = 30000, to = 32767, proto = "tcp", peer = "alb", cidr = null, desc = "NodePort range from the ALB" }
    nodes_app       = { sg = "nodes", from = var.app_port, to = var.app_port, proto = "tcp", peer = "alb", cidr = null, desc = "Pujo pods from the ALB (target-type ip)" }
    nodes_self      = { sg = "nodes", from = -1, to = -1, proto = "-1", peer = "nodes", cidr = null, desc = "Pod-to-pod and node-to-node" }
    nodes_cp_https  = { sg = "nodes", from = 443, to = 443, proto = "tcp", peer = "control_plane", cidr = null, desc = "Control plane to webhooks on nodes" }
    nodes_cp_kubelt = { sg = "nodes", from = 10250, to = 10250, proto = "tcp", peer = "control_plane", cidr = null, desc = "Control plane to kubelet" }
    nodes_cp_webhk  = { sg = "nodes", from = 9443, to = 9443, proto = "tcp", peer = "control_plane", cidr = null, desc = "Control plane to the LB controller's admission webhook" }
    rds_postgres    = { sg = "rds", from = 5432, to = 5432, proto = "tcp", peer = "nodes", cidr = null, desc = "PostgreSQL from the EKS nodes" }
    redis_redis     = { sg = "redis", from = 6379, to = 6379, proto = "tcp", peer = "nodes", cidr = null, desc = "Redis from the EKS nodes" }
    cp_https        = { sg = "control_plane", from = 443, to = 443, proto = "tcp", peer = "nodes", cidr = null, desc = "Kubernetes API from the nodes" }
  }

  egress = {
    alb_nodeport = { sg = "alb", from = 30000, to = 32767, proto = "tcp", peer = "nodes", cidr = null, desc = "To NodePorts on the nodes" }
    alb_app      = { sg = "alb", from = var.app_port, to = var.app_port, proto = "tcp", peer = "nodes", cidr = null, desc = "To Pujo pods (target-type ip)" }
    nodes_all    = { sg = "nodes", from = -1, to = -1, proto = "-1", cidr = "0.0.0.0/0", peer = null, desc = "Anywhere, through the NAT gateways" }
    cp_https     = { sg = "control_plane", from = 443, to = 443, proto = "tcp", peer = "nodes", cidr = null, desc = "To webhooks on the nodes" }
    cp_kubelet   = { sg = "control_plane", from = 10250, to = 10250, proto = "tcp", peer = "nodes", cidr = null, desc = "To the kubelet" }
    cp_webhook   = { sg = "control_plane", from = 9443, to = 9443, proto = "tcp", peer = "nodes", cidr = null, desc = "To the LB controller's admission webhook" }
  }
}

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:Attached across module boundaries (EKS, launch template, RDS, ElastiCache, Ingress annotation), which checkov does not follow.
  for_each = local.groups

  # A prefix, not a fixed name: create_before_destroy makes the replacement
  # group while the old one still holds the name, which a fixed name would
  # refuse with InvalidGroup.Duplicate. Everything finds the groups by ID
  # or by the Name tag (the Ingress annotation).
  name_prefix = "${local.group_names[each.key]}-"
  description = each.value
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = local.group_names[each.key] })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each = local.ingress

  security_group_id            = aws_security_group.this[each.value.sg].id
  description                  = each.value.desc
  ip_protocol                  = each.value.proto
  from_port                    = each.value.proto == "-1" ? null : each.value.from
  to_port                      = each.value.proto == "-1" ? null : each.value.to
  cidr_ipv4                    = each.value.cidr
  referenced_security_group_id = each.value.peer == null ? null : aws_security_group.this[each.value.peer].id

  tags = var.tags
}

# The only rules open to the internet: the ALB's listeners.
resource "aws_vpc_security_group_ingress_rule" "alb_internet" {
  #checkov:skip=CKV_AWS_260:The public ALB listens on 80 only to redirect to HTTPS (ssl-redirect annotation).
  for_each = {
    80  = "HTTP from the internet (redirected to HTTPS)"
    443 = "HTTPS from the internet"
  }

  security_group_id = aws_security_group.this["alb"].id
  description       = each.value
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "this" {
  for_each = local.egress

  security_group_id            = aws_security_group.this[each.value.sg].id
  description                  = each.value.desc
  ip_protocol                  = each.value.proto
  from_port                    = each.value.proto == "-1" ? null : each.value.from
  to_port                      = each.value.proto == "-1" ? null : each.value.to
  cidr_ipv4                    = each.value.cidr
  referenced_security_group_id = each.value.peer == null ? null : aws_security_group.this[each.value.peer].id

  tags = var.tags
}
