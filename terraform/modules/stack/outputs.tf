# What terraform/envs/<env> re-exports for deploy/kubernetes and deploy/argocd.

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...; add-on values clusterName / autoDiscovery.clusterName)."
  value       = module.eks.cluster_name
}

output "cluster_version" {
  description = "Kubernetes version of the cluster; the manifests are validated against it."
  value       = module.eks.cluster_version
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "vpc_id" {
  description = "VPC ID (AWS Load Balancer Controller value vpcId)."
  value       = module.vpc.vpc_id
}

output "alb_subnet_cidrs" {
  description = "Public subnets, where the ALB's interfaces are: PUJO_TRUSTED_PROXIES (comma-separated) and the NetworkPolicy's ipBlocks for port 8080."
  value       = module.vpc.public_subnet_cidrs
}

output "alb_security_group_name" {
  description = "Ingress annotation alb.ingress.kubernetes.io/security-groups."
  value       = module.security_groups.alb_security_group_name
}

output "acm_certificate_arn" {
  description = "Certificate for domain_name; the controller discovers it from the Ingress tls host."
  value       = aws_acm_certificate.site.arn
}

output "acm_validation_records" {
  description = "DNS records that validate the certificate, when Route 53 is not managed here."
  value = [for o in aws_acm_certificate.site.domain_validation_options : {
    name  = o.resource_record_name
    type  = o.resource_record_type
    value = o.resource_record_value
  }]
}

output "app_irsa_role_arn" {
  description = "ServiceAccount durga-puja/pujo: eks.amazonaws.com/role-arn."
  value       = module.iam.app_role_arn
}

output "external_secrets_irsa_role_arn" {
  description = "ServiceAccount durga-puja/pujo-external-secrets: eks.amazonaws.com/role-arn."
  value       = module.iam.external_secrets_role_arn
}

output "lb_controller_irsa_role_arn" {
  description = "aws-load-balancer-controller chart: serviceAccount.annotations.eks.amazonaws.com/role-arn."
  value       = module.iam.lb_controller_role_arn
}

output "cluster_autoscaler_irsa_role_arn" {
  description = "cluster-autoscaler chart: rbac.serviceAccount.annotations.eks.amazonaws.com/role-arn."
  value       = module.iam.cluster_autoscaler_role_arn
}

output "app_secret_name" {
  description = "Secrets Manager secret with PUJO_DATABASE_URL, PUJO_REDIS_PASSWORD and RDS_CA_BUNDLE (ExternalSecret remoteRef key)."
  value       = module.secrets.secret_name
}

output "s3_bucket_name" {
  description = "PUJO_S3_BUCKET: <name>-assets-<account id>."
  value       = module.s3.bucket_name
}

output "s3_kms_key_id" {
  description = "PUJO_S3_KMS_KEY_ID (with PUJO_S3_SSE=aws:kms): the alias ARN of the key the bucket is encrypted with. Without it S3 would encrypt Pujo's puts with the account's aws/s3 key instead."
  value       = module.kms.alias_arn
}

output "redis_url" {
  description = "PUJO_REDIS_URL (TLS; the password comes from PUJO_REDIS_PASSWORD)."
  value       = "rediss://${module.elasticache.primary_endpoint_address}:${module.elasticache.port}"
}

output "db_address" {
  description = "RDS primary host name (the full URL with the password is only in Secrets Manager)."
  value       = module.rds.address
}

output "nat_public_ips" {
  description = "Outbound addresses of the cluster."
  value       = module.vpc.nat_public_ips
}

output "alertmanager_irsa_role_arn" {
  description = "kube-prometheus-stack: alertmanager.serviceAccount.annotations.eks.amazonaws.com/role-arn."
  value       = module.iam.alertmanager_role_arn
}

output "alerts_sns_topic_arn" {
  description = "SNS topic of Alertmanager's receiver; subscribe the on-call addresses to it."
  value       = aws_sns_topic.alerts.arn
}

output "waf_web_acl_arn" {
  description = "Ingress annotation alb.ingress.kubernetes.io/wafv2-acl-arn."
  value       = module.waf.web_acl_arn
}

output "alb_access_log_bucket" {
  description = "Ingress load-balancer-attributes access_logs.s3.bucket (prefix alb)."
  value       = module.s3.logs_bucket_name
}

output "cdn_distribution_id" {
  description = "CloudFront distribution ID when cdn_enabled (for invalidations), else null."
  value       = var.cdn_enabled ? module.cdn[0].distribution_id : null
}

output "cdn_domain_name" {
  description = "CloudFront's name for the site when cdn_enabled (the alias target of domain_name), else null."
  value       = var.cdn_enabled ? module.cdn[0].domain_name : null
}

output "cdn_web_acl_arn" {
  description = "CLOUDFRONT-scope web ACL (the rate rule per viewer) when cdn_enabled, else null."
  value       = var.cdn_enabled ? module.waf_cdn[0].web_acl_arn : null
}

output "site_dns_records" {
  description = "The records Terraform keeps for domain_name (type -> alias target); empty when it does not manage the zone or the ALB's name is not known yet."
  value       = { for t, r in aws_route53_record.site : t => r.alias[0].name }
}

output "dr_region" {
  description = "Region of the disaster recovery copies, or null without them."
  value       = var.dr_region == "" ? null : module.dr[0].dr_region
}

output "dr_s3_bucket_name" {
  description = "The photo bucket's replica in dr_region (PUJO_S3_BUCKET after a failover), or null."
  value       = var.dr_region == "" ? null : module.dr[0].replica_bucket_name
}

output "dr_kms_key_id" {
  description = "Alias ARN of the DR region's key (PUJO_S3_KMS_KEY_ID after a failover), or null."
  value       = var.dr_region == "" ? null : module.dr[0].kms_alias_arn
}

output "dr_db_automated_backups_arn" {
  description = "ARN of the database's replicated automated backups in dr_region (point-in-time restores there), or null."
  value       = var.dr_region == "" ? null : module.dr[0].db_automated_backups_replication_arn
}

output "backup_vault_name" {
  description = "AWS Backup vault of the daily database snapshots in this region, or null without dr_region."
  value       = var.dr_region == "" ? null : module.dr[0].backup_vault_name
}

output "dr_backup_vault_name" {
  description = "Locked AWS Backup vault of their copies in dr_region, or null."
  value       = var.dr_region == "" ? null : module.dr[0].dr_backup_vault_name
}

output "dr_backup_vault_lock" {
  description = "Vault Lock mode of the backup vaults (\"compliance\" or \"governance\"), or null without dr_region."
  value       = var.dr_region == "" ? null : module.dr[0].backup_vault_lock_mode
}
