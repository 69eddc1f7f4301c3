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
