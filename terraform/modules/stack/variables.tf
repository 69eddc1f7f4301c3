# No defaults: each environment (terraform/envs/<env>/variables.tf) states
# its own names and sizes and passes all of them.

variable "name" {
  description = "Name prefix of every resource (the seed's durga-puja-vpc, durga-puja-eks, durga-puja-db, durga-puja-redis)."
  type        = string

  # The tightest names made from it: the ElastiCache group <name>-redis
  # (40 characters at most), the IAM role
  # <name>-aws-load-balancer-controller (64) and the photo bucket's log
  # bucket <name>-assets-<12-digit account id>-logs (63, lower-case letters,
  # digits and hyphens). 32 leaves room in each; the tests plan a 32-character
  # name and check every derived name (envs/*/tests).
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens, at most 32 characters (it names the ElastiCache group, IAM roles and S3 buckets)."
  }
}

variable "environment" {
  description = "Environment name, used in the secret path pujo/<environment>/app."
  type        = string
}

variable "azs" {
  description = "The three availability zones of the seed plan."
  type        = list(string)
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version."
  type        = string
}

variable "endpoint_public_access_cidrs" {
  description = "Networks allowed to reach the public Kubernetes API endpoint (operators, CI runners). Never 0.0.0.0/0."
  type        = list(string)
}

variable "admin_principal_arns" {
  description = "IAM roles given cluster-admin on EKS (operators' SSO role, the CI deploy role)."
  type        = list(string)
}

variable "domain_name" {
  description = "Public host name of the site; its ACM certificate is requested here."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_name for DNS validation of the certificate. Empty: validate by hand with the records in output acm_validation_records."
  type        = string
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "spot_nodes_enabled" {
  description = "Run the optional spot node group (0-5 t3.medium / t3a.medium spot nodes)."
  type        = bool
}

variable "alb_dns_name" {
  description = "DNS name of the ALB the AWS Load Balancer Controller made for the Ingress (known after the first ArgoCD sync; empty before). With route53_zone_id, Terraform points domain_name at it (or at CloudFront when cdn_enabled); CloudFront's origin."
  type        = string
}

variable "cdn_enabled" {
  description = "Put CloudFront in front of the site (modules/cdn): public photos cached at the edge, the rate rule per viewer at the edge. Needs alb_dns_name and an issued certificate."
  type        = bool

  validation {
    condition     = !var.cdn_enabled || var.alb_dns_name != ""
    error_message = "cdn_enabled needs alb_dns_name, CloudFront's origin (kubectl -n durga-puja get ingress pujo)."
  }
}

variable "cdn_origin_locked" {
  description = "With cdn_enabled: the ALB's web ACL blocks every request that did not come through CloudFront. Turn on once domain_name resolves to CloudFront everywhere (docs/DEPLOYMENT.md, 3.12)."
  type        = bool
}

variable "cdn_price_class" {
  description = "CloudFront price class (PriceClass_200 includes India's edges)."
  type        = string
}

variable "dr_region" {
  description = "Region of the disaster recovery copies (modules/dr: photo replication, replicated database backups, locked AWS Backup vault); the aws.dr provider must be configured for it. Empty: no copies outside the environment's region."
  type        = string
}

variable "dr_backup_vault_lock" {
  description = "With dr_region: Vault Lock mode of the backup vaults, \"compliance\" (immutable after 3 days) or \"governance\" (removable by privileged principals, for a rehearsal)."
  type        = string
}
