# Pujo in production: the seed architecture on AWS (terraform/modules/stack).

module "stack" {
  source = "../../modules/stack"
  providers = {
    aws    = aws
    aws.dr = aws.dr
  }

  name                         = var.name
  environment                  = var.environment
  azs                          = var.azs
  kubernetes_version           = var.kubernetes_version
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  admin_principal_arns         = var.admin_principal_arns
  domain_name                  = var.domain_name
  route53_zone_id              = var.route53_zone_id
  db_instance_class            = var.db_instance_class
  redis_node_type              = var.redis_node_type
  spot_nodes_enabled           = var.spot_nodes_enabled
  alb_dns_name                 = var.alb_dns_name
  cdn_enabled                  = var.cdn_enabled
  cdn_origin_locked            = var.cdn_origin_locked
  cdn_price_class              = var.cdn_price_class
  dr_region                    = var.dr_region
  dr_backup_vault_lock         = var.dr_backup_vault_lock
}
