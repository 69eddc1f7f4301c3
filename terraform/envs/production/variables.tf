variable "region" {
  description = "AWS region (the seed: us-east-1)."
  type        = string
  default     = "us-east-1"
}

variable "azs" {
  description = "The three availability zones of the seed plan."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

variable "environment" {
  description = "Environment name, used in secret paths (pujo/<environment>/app) and tags."
  type        = string
  default     = "production"
}

variable "name" {
  description = "Name prefix of every resource (the seed's durga-puja-vpc, durga-puja-eks, durga-puja-db, durga-puja-redis)."
  type        = string
  # modules/stack says why 32: the ElastiCache group, IAM role and S3
  # bucket names made from it.
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.name))
    error_message = "name must be lower-case letters, digits and hyphens, at most 32 characters."
  }
  default = "durga-puja"
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version. 1.35 is in standard support until March 2027; the infra checks validate the manifests against this default."
  type        = string
  default     = "1.35"
}

variable "endpoint_public_access_cidrs" {
  description = "Networks allowed to reach the public Kubernetes API endpoint (operators, CI runners). Never 0.0.0.0/0."
  type        = list(string)
}

variable "admin_principal_arns" {
  description = "IAM roles given cluster-admin on EKS (operators' SSO role, the CI deploy role)."
  type        = list(string)
  default     = []
}

variable "domain_name" {
  description = "Public host name of the site, e.g. \"pujo.example.org\"; Terraform requests its ACM certificate."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_name for DNS validation of the certificate. Empty: validate by hand with the records in output acm_validation_records."
  type        = string
  default     = ""
}

variable "db_instance_class" {
  description = "RDS instance class (the seed: db.t3.micro)."
  type        = string
  default     = "db.t3.micro"
}

variable "redis_node_type" {
  description = "ElastiCache node type (the seed: cache.t3.micro)."
  type        = string
  default     = "cache.t3.micro"
}

variable "spot_nodes_enabled" {
  description = "Run the optional spot node group (seed: 0-5 t3.medium spot nodes)."
  type        = bool
  default     = true
}

variable "alb_dns_name" {
  description = "The ALB's DNS name, known after the first ArgoCD sync (kubectl -n durga-puja get ingress pujo -o jsonpath='{.status.loadBalancer.ingress[0].hostname}'). With route53_zone_id, Terraform points domain_name at it, or at CloudFront when cdn_enabled (docs/DEPLOYMENT.md, 3.10)."
  type        = string
  default     = ""
}

variable "cdn_enabled" {
  description = "CloudFront in front of the site: public photos cached at the edge, the rate rule per viewer at the edge (docs/DEPLOYMENT.md, 3.12). Off until alb_dns_name is set and the certificate is issued."
  type        = bool
  default     = false

  validation {
    condition     = !var.cdn_enabled || var.alb_dns_name != ""
    error_message = "cdn_enabled needs alb_dns_name, CloudFront's origin."
  }
}

variable "cdn_origin_locked" {
  description = "With cdn_enabled: the ALB refuses requests that did not come through CloudFront. Set once domain_name resolves to CloudFront (docs/DEPLOYMENT.md, 3.12)."
  type        = bool
  default     = false
}

variable "cdn_price_class" {
  description = "CloudFront price class: PriceClass_200 includes the edges in India."
  type        = string
  default     = "PriceClass_200"
}

variable "dr_region" {
  description = "Second region for the disaster recovery copies of the database and the photos (terraform/modules/dr): us-west-2, across the continent from us-east-1, with RDS backup replication, S3 Replication Time Control and AWS Backup. Empty: no copies outside the region."
  type        = string
  default     = "us-west-2"

  validation {
    condition     = var.dr_region == "" || var.dr_region != var.region
    error_message = "dr_region must be another region than region: a copy next to the original survives nothing the original does not."
  }
}

variable "dr_backup_vault_lock" {
  description = "Vault Lock of the backup vaults when dr_region is set: \"compliance\" (after 3 days nobody, root included, can delete a database backup before it expires) or \"governance\" (privileged principals can lift it: for rehearsals that are torn down)."
  type        = string
  default     = "compliance"
}
