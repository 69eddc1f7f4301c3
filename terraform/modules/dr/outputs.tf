output "dr_region" {
  description = "The region holding the copies."
  value       = data.aws_region.dr.id
}

output "kms_key_arn" {
  description = "The DR region's KMS key (alias/<name>-dr): photo replicas, replicated database backups, the DR backup vault."
  value       = module.kms.key_arn
}

output "kms_alias_arn" {
  description = "ARN of the DR key's alias: PUJO_S3_KMS_KEY_ID when Pujo writes to the replica after a failover."
  value       = module.kms.alias_arn
}

output "replica_bucket_name" {
  description = "The photo bucket's replica in the DR region (<name>-dr-assets-<account id>): PUJO_S3_BUCKET after a failover."
  value       = module.replica.bucket_name
}

output "replica_bucket_arn" {
  description = "ARN of the replica bucket."
  value       = module.replica.bucket_arn
}

output "replicated_prefixes" {
  description = "Key prefixes replicated (never partial/)."
  value       = sort(keys(var.replicated_prefixes))
}

output "db_automated_backups_replication_arn" {
  description = "ARN of the database's replicated automated backups in the DR region (restore-db-instance-to-point-in-time --source-db-instance-automated-backups-arn)."
  value       = aws_db_instance_automated_backups_replication.this.id
}

output "backup_vault_name" {
  description = "AWS Backup vault of the daily database snapshots in the environment's region."
  value       = aws_backup_vault.primary.name
}

output "dr_backup_vault_name" {
  description = "AWS Backup vault of their copies in the DR region (locked)."
  value       = aws_backup_vault.dr.name
}

output "backup_vault_lock_mode" {
  description = "The Vault Lock both vaults are under, read from the locks themselves: \"compliance\" (a lock date) or \"governance\"."
  value = (
    aws_backup_vault_lock_configuration.primary.changeable_for_days != null && aws_backup_vault_lock_configuration.dr.changeable_for_days != null
    ? "compliance" : "governance"
  )
}

output "locked_backup_vaults" {
  description = "Names of the vaults under Vault Lock."
  value       = [aws_backup_vault_lock_configuration.primary.backup_vault_name, aws_backup_vault_lock_configuration.dr.backup_vault_name]
}
