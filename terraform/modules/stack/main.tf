# One environment of Pujo on AWS, the seed architecture: every module of
# terraform/modules wired together. terraform/envs/<env> calls this once with
# the environment's names and sizes.

locals {
  cluster_name = "${var.name}-eks"
  secret_name  = "pujo/${var.environment}/app"
}

module "kms" {
  source = "../kms"

  name = var.name
}

module "vpc" {
  source = "../vpc"

  name         = var.name
  cluster_name = local.cluster_name
  azs          = var.azs
  kms_key_arn  = module.kms.key_arn
  # The seed's CIDR plan (also the module defaults; stated here so a reader
  # sees the whole plan in one place - the infra checks compare it to the seed).
  cidr_block            = "10.0.0.0/16"
  public_subnet_cidrs   = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
  private_subnet_cidrs  = ["10.0.11.0/24", "10.0.12.0/24", "10.0.13.0/24"]
  database_subnet_cidrs = ["10.0.21.0/24", "10.0.22.0/24", "10.0.23.0/24"]
}

module "security_groups" {
  source = "../security-groups"

  name     = var.name
  vpc_id   = module.vpc.vpc_id
  app_port = 8080
}

module "eks" {
  source = "../eks"

  cluster_name                    = local.cluster_name
  kubernetes_version              = var.kubernetes_version
  vpc_id                          = module.vpc.vpc_id
  subnet_ids                      = module.vpc.private_subnet_ids
  control_plane_security_group_id = module.security_groups.control_plane_security_group_id
  node_security_group_id          = module.security_groups.node_security_group_id
  endpoint_public_access_cidrs    = var.endpoint_public_access_cidrs
  admin_principal_arns            = var.admin_principal_arns
  kms_key_arn                     = module.kms.key_arn

  spot_node_group = {
    enabled        = var.spot_nodes_enabled
    instance_types = ["t3.medium", "t3a.medium"]
    min_size       = 0
    desired_size   = 2
    max_size       = 5
    disk_size_gb   = 30
  }
}

# --- Data -------------------------------------------------------------------

# Passwords, letters and digits only: valid in a URL without escaping, and
# allowed by both RDS and ElastiCache. Secrets Manager's generator draws one
# on every plan; terraform_data keeps the first draw (ignore_changes), so a
# password changes only when its terraform_data is replaced:
#   terraform apply -replace=module.stack.terraform_data.db_password
# (docs/OPERATIONS.md, "Secrets rotation"). They live in the state, as the
# database URL in Secrets Manager does: the state bucket is locked down.
data "aws_secretsmanager_random_password" "db" {
  password_length     = 40
  exclude_punctuation = true
  include_space       = false
}

data "aws_secretsmanager_random_password" "redis" {
  password_length     = 64
  exclude_punctuation = true
  include_space       = false
}

resource "terraform_data" "db_password" {
  input = sensitive(data.aws_secretsmanager_random_password.db.random_password)

  lifecycle {
    ignore_changes = [input]
  }
}

resource "terraform_data" "redis_password" {
  input = sensitive(data.aws_secretsmanager_random_password.redis.random_password)

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  db_password    = sensitive(terraform_data.db_password.output)
  redis_password = sensitive(terraform_data.redis_password.output)
}

module "rds" {
  source = "../rds"

  identifier        = "${var.name}-db"
  instance_class    = var.db_instance_class
  subnet_ids        = module.vpc.database_subnet_ids
  security_group_id = module.security_groups.rds_security_group_id
  password          = local.db_password
  kms_key_arn       = module.kms.key_arn
}

module "elasticache" {
  source = "../elasticache"

  replication_group_id = "${var.name}-redis"
  node_type            = var.redis_node_type
  subnet_ids           = module.vpc.database_subnet_ids
  security_group_id    = module.security_groups.redis_security_group_id
  auth_token           = local.redis_password
  kms_key_arn          = module.kms.key_arn
}

# The seed's durga-puja-assets-{unique-id}, with the account ID as the unique
# part: the name follows from `name` and the account alone, like the IRSA
# role names, so deploy/kubernetes can state PUJO_S3_BUCKET before anything
# is applied and scripts/infra/test_seed.py can check it is this bucket.
# If someone else held the name, the apply would stop here; and Pujo's role
# reaches only buckets of this account (modules/iam, s3:ResourceAccount).
data "aws_caller_identity" "current" {}

module "s3" {
  source = "../s3"

  bucket_name = "${var.name}-assets-${data.aws_caller_identity.current.account_id}"
  kms_key_arn = module.kms.key_arn
}

# Copies of the database and the photos in a second region (dr_region):
# modules/dr, docs/OPERATIONS.md "Disaster recovery on EKS".
module "dr" {
  source = "../dr"
  count  = var.dr_region == "" ? 0 : 1
  providers = {
    aws    = aws
    aws.dr = aws.dr
  }

  name               = var.name
  dr_region          = var.dr_region
  source_bucket_name = module.s3.bucket_name
  source_bucket_arn  = module.s3.bucket_arn
  source_kms_key_arn = module.kms.key_arn
  db_instance_arn    = module.rds.arn
  backup_vault_lock  = var.dr_backup_vault_lock
}

module "secrets" {
  source = "../secrets"

  name        = local.secret_name
  kms_key_arn = module.kms.key_arn
  # Deleted at once on destroy: a secret waiting out a recovery window keeps
  # its name, and an environment rebuilt under the same name could not make
  # pujo/<env>/app again. Nothing is lost: every value in it is made anew
  # by Terraform (passwords, URL, the committed CA bundle).
  recovery_window_in_days = 0
  database_url = format(
    "postgres://%s:%s@%s:%d/%s?sslmode=require",
    module.rds.username, local.db_password, module.rds.address, module.rds.port, module.rds.database_name,
  )
  redis_password = local.redis_password
  # sslmode=require makes TLS mandatory, and Pujo always verifies the
  # server's chain and host name: against this bundle, the region's RDS CAs
  # (the pod specs pass its file as --db-ca-file).
  db_ca_bundle = module.rds.ca_bundle_pem
}

# Where Alertmanager sends alerts; operators subscribe to it (e-mail, SMS,
# a pager's HTTPS endpoint): docs/OPERATIONS.md, "Alerts".
resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = module.kms.key_arn
}

# --- CloudFront in front of the site (optional, cdn_enabled) ----------------

# CloudFront adds this header to every request it sends to the ALB; the ALB's
# web ACL knows CloudFront's requests by it (modules/waf). Kept like the
# passwords above: replace it with
#   terraform apply -replace='module.stack.terraform_data.origin_verify[0]'
# (docs/OPERATIONS.md, "CloudFront").
data "aws_secretsmanager_random_password" "origin_verify" {
  count = var.cdn_enabled ? 1 : 0

  password_length     = 48
  exclude_punctuation = true
  include_space       = false
}

resource "terraform_data" "origin_verify" {
  count = var.cdn_enabled ? 1 : 0

  input = sensitive(data.aws_secretsmanager_random_password.origin_verify[0].random_password)

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  origin_verify_header = var.cdn_enabled ? {
    name  = "X-Pujo-Origin-Verify"
    value = terraform_data.origin_verify[0].output
  } : null
}

module "waf" {
  source = "../waf"

  name        = var.name
  kms_key_arn = module.kms.key_arn

  origin_verify_enabled        = var.cdn_enabled
  origin_verify_header         = local.origin_verify_header
  require_origin_verify_header = var.cdn_enabled && var.cdn_origin_locked
}

# The rate rule per viewer address, where the address is still the viewer's.
module "waf_cdn" {
  source = "../waf"
  count  = var.cdn_enabled ? 1 : 0

  name        = "${var.name}-cdn"
  scope       = "CLOUDFRONT"
  kms_key_arn = module.kms.key_arn
}

module "cdn" {
  source = "../cdn"
  count  = var.cdn_enabled ? 1 : 0

  name                 = var.name
  domain_name          = var.domain_name
  origin_domain_name   = var.alb_dns_name
  acm_certificate_arn  = local.issued_certificate_arn
  web_acl_arn          = module.waf_cdn[0].web_acl_arn
  origin_verify_header = local.origin_verify_header
  price_class          = var.cdn_price_class
}

module "iam" {
  source = "../iam"

  name              = var.name
  cluster_name      = module.eks.cluster_name
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_provider     = module.eks.oidc_provider
  bucket_arn        = module.s3.bucket_arn
  kms_key_arn       = module.kms.key_arn
  app_secret_arns   = [module.secrets.secret_arn]
  alerts_topic_arn  = aws_sns_topic.alerts.arn
}

# --- TLS certificate for the ALB ---------------------------------------------

resource "aws_acm_certificate" "site" {
  domain_name       = var.domain_name
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "site_validation" {
  for_each = var.route53_zone_id == "" ? {} : {
    for o in aws_acm_certificate.site.domain_validation_options : o.domain_name => o
  }

  zone_id         = var.route53_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "site" {
  count = var.route53_zone_id == "" ? 0 : 1

  certificate_arn         = aws_acm_certificate.site.arn
  validation_record_fqdns = [for r in aws_route53_record.site_validation : r.fqdn]
}

# CloudFront accepts only an issued certificate: the validated one when
# Route 53 validates it here, else the certificate validated by hand.
locals {
  issued_certificate_arn = var.route53_zone_id == "" ? aws_acm_certificate.site.arn : aws_acm_certificate_validation.site[0].certificate_arn
}

# --- The site's name -------------------------------------------------------

# domain_name -> CloudFront when cdn_enabled, else -> the ALB, once its name
# is known (alb_dns_name, after the first ArgoCD sync). Terraform owns the
# record because its target is Terraform's when the CDN is on, and it already
# owns the zone's validation records; docs/DEPLOYMENT.md, 3.10, says why not
# external-dns. Only when this Terraform manages the zone (route53_zone_id).
data "aws_lb_hosted_zone_id" "alb" {}

locals {
  site_record_target = var.cdn_enabled ? {
    name    = module.cdn[0].domain_name
    zone_id = module.cdn[0].hosted_zone_id
    } : {
    name    = var.alb_dns_name
    zone_id = data.aws_lb_hosted_zone_id.alb.id
  }
  # The ALB the controller makes is IPv4 only; CloudFront answers on IPv6 too.
  site_record_types = var.route53_zone_id == "" || (!var.cdn_enabled && var.alb_dns_name == "") ? [] : (
    var.cdn_enabled ? ["A", "AAAA"] : ["A"]
  )
}

resource "aws_route53_record" "site" {
  for_each = toset(local.site_record_types)

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = each.value
  # Takes over a record made by hand before (DEPLOYMENT.md 3.10).
  allow_overwrite = true

  alias {
    name                   = local.site_record_target.name
    zone_id                = local.site_record_target.zone_id
    evaluate_target_health = !var.cdn_enabled
  }
}
