# What deploy/kubernetes/overlays/production and deploy/argocd need.
# The values are built in terraform/modules/stack (except region).

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...; add-on values clusterName / autoDiscovery.clusterName)."
  value       = module.stack.cluster_name
}

output "cluster_version" {
  description = "Kubernetes version of the cluster; the manifests are validated against it."
  value       = module.stack.cluster_version
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.stack.cluster_endpoint
}

output "vpc_id" {
  description = "VPC ID (AWS Load Balancer Controller value vpcId)."
  value       = module.stack.vpc_id
}

output "region" {
  description = "AWS region (PUJO_S3_REGION, add-on values)."
  value       = var.region
}

output "alb_subnet_cidrs" {
  description = "Public subnets, where the ALB's interfaces are: PUJO_TRUSTED_PROXIES (comma-separated) and the NetworkPolicy's ipBlocks for port 8080."
  value       = module.stack.alb_subnet_cidrs
}

output "alb_security_group_name" {
  description = "Ingress annotation alb.ingress.kubernetes.io/security-groups."
  value       = module.stack.alb_security_group_name
}

output "acm_certificate_arn" {
  description = "Certificate for domain_name; the controller discovers it from the Ingress tls host."
  value       = module.stack.acm_certificate_arn
}

output "acm_validation_records" {
  description = "DNS records that validate the certificate, when Route 53 is not managed here."
  value       = module.stack.acm_validation_records
}

output "app_irsa_role_arn" {
  description = "ServiceAccount durga-puja/pujo: eks.amazonaws.com/role-arn."
  value       = module.stack.app_irsa_role_arn
}

output "external_secrets_irsa_role_arn" {
  description = "ServiceAccount durga-puja/pujo-external-secrets: eks.amazonaws.com/role-arn."
  value       = module.stack.external_secrets_irsa_role_arn
}

output "lb_controller_irsa_role_arn" {
  description = "aws-load-balancer-controller chart: serviceAccount.annotations.eks.amazonaws.com/role-arn."
  value       = module.stack.lb_controller_irsa_role_arn
}

output "cluster_autoscaler_irsa_role_arn" {
  description = "cluster-autoscaler chart: rbac.serviceAccount.annotations.eks.amazonaws.com/role-arn."
  value       = module.stack.cluster_autoscaler_irsa_role_arn
}

output "app_secret_name" {
  description = "Secrets Manager secret with PUJO_DATABASE_URL, PUJO_REDIS_PASSWORD and RDS_CA_BUNDLE (ExternalSecret remoteRef key)."
  value       = module.stack.app_secret_name
}

output "s3_bucket_name" {
  description = "PUJO_S3_BUCKET: <name>-assets-<account id>."
  value       = module.stack.s3_bucket_name
}

output "s3_kms_key_id" {
  description = "PUJO_S3_KMS_KEY_ID (with PUJO_S3_SSE=aws:kms): the alias ARN of the key the bucket is encrypted with. Without it S3 would encrypt Pujo's puts with the account's aws/s3 key instead."
  value       = module.stack.s3_kms_key_id
}

output "redis_url" {
  description = "PUJO_REDIS_URL (TLS; the password comes from PUJO_REDIS_PASSWORD)."
  value       = module.stack.redis_url
}

output "db_address" {
  description = "RDS primary host name (the full URL with the password is only in Secrets Manager)."
  value       = module.stack.db_address
}

output "nat_public_ips" {
  description = "Outbound addresses of the cluster."
  value       = module.stack.nat_public_ips
}

output "alertmanager_irsa_role_arn" {
  description = "kube-prometheus-stack: alertmanager.serviceAccount.annotations.eks.amazonaws.com/role-arn."
  value       = module.stack.alertmanager_irsa_role_arn
}

output "alerts_sns_topic_arn" {
  description = "SNS topic of Alertmanager's receiver; subscribe the on-call addresses to it."
  value       = module.stack.alerts_sns_topic_arn
}

output "waf_web_acl_arn" {
  description = "Ingress annotation alb.ingress.kubernetes.io/wafv2-acl-arn."
  value       = module.stack.waf_web_acl_arn
}

output "alb_access_log_bucket" {
  description = "Ingress load-balancer-attributes access_logs.s3.bucket (prefix alb)."
  value       = module.stack.alb_access_log_bucket
}

output "cdn_distribution_id" {
  description = "CloudFront distribution ID when cdn_enabled (invalidations), else null."
  value       = module.stack.cdn_distribution_id
}

output "cdn_domain_name" {
  description = "CloudFront's name for the site when cdn_enabled, else null."
  value       = module.stack.cdn_domain_name
}

output "cdn_web_acl_arn" {
  description = "CLOUDFRONT-scope web ACL when cdn_enabled, else null."
  value       = module.stack.cdn_web_acl_arn
}

output "site_dns_records" {
  description = "Records Terraform keeps for domain_name (type -> alias target)."
  value       = module.stack.site_dns_records
}

output "dr_region" {
  description = "Region of the disaster recovery copies, or null without them."
  value       = module.stack.dr_region
}

output "dr_s3_bucket_name" {
  description = "The photo bucket's replica in dr_region (PUJO_S3_BUCKET after a failover), or null."
  value       = module.stack.dr_s3_bucket_name
}

output "dr_kms_key_id" {
  description = "Alias ARN of the DR region's key (PUJO_S3_KMS_KEY_ID after a failover), or null."
  value       = module.stack.dr_kms_key_id
}

output "dr_db_automated_backups_arn" {
  description = "ARN of the database's replicated automated backups in dr_region, or null."
  value       = module.stack.dr_db_automated_backups_arn
}

output "backup_vault_name" {
  description = "AWS Backup vault of the daily database snapshots in this region, or null."
  value       = module.stack.backup_vault_name
}

output "dr_backup_vault_name" {
  description = "Locked AWS Backup vault of their copies in dr_region, or null."
  value       = module.stack.dr_backup_vault_name
}

output "dr_backup_vault_lock" {
  description = "Vault Lock mode of the backup vaults, or null without dr_region."
  value       = module.stack.dr_backup_vault_lock
}
