variable "name" {
  description = "The environment's name prefix (e.g. \"durga-puja\"). The copies are named <name>-dr-...: the names a <name>-dr environment in the DR region gives its own key and bucket."
  type        = string
}

variable "dr_region" {
  description = "The region the aws.dr provider is configured for; checked against it, and against the primary region, which it must not be."
  type        = string
}

variable "source_bucket_name" {
  description = "The photo bucket (modules/s3 bucket_name), versioned and SSE-KMS encrypted."
  type        = string
}

variable "source_bucket_arn" {
  description = "ARN of the photo bucket."
  type        = string
}

variable "source_kms_key_arn" {
  description = "The environment's KMS key: it encrypts the photo bucket and the database, and the primary region's backup vault."
  type        = string
}

variable "db_instance_arn" {
  description = "ARN of the RDS instance (modules/rds arn) whose backups are copied."
  type        = string
}

variable "replicated_prefixes" {
  description = "Key prefixes of the photo bucket replicated to the DR bucket, each with the storage class of its replicas. Everything Pujo keeps (uploads/ originals, thumbnails/ derivatives); never partial/, the chunks of unfinished resumable uploads, which expire after two days."
  type        = map(string)
  default = {
    "uploads/"    = "STANDARD_IA"
    "thumbnails/" = "STANDARD"
  }

  validation {
    condition     = length(var.replicated_prefixes) > 0 && alltrue([for p in keys(var.replicated_prefixes) : p != "" && endswith(p, "/") && !startswith(p, "partial/") && !startswith("partial/", p)])
    error_message = "Replicate named prefixes ending in /, never partial/ (unfinished uploads) nor a prefix that contains it (\"\" replicates the whole bucket)."
  }
  validation {
    condition     = alltrue([for c in values(var.replicated_prefixes) : contains(["STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR"], c)])
    error_message = "Replicas must stay readable at once after a failover: STANDARD, STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR."
  }
}

variable "replication_time_control" {
  description = "S3 Replication Time Control: 99.99 % of objects replicated within 15 minutes (an SLA, billed per GB), with replication metrics. Off: usually minutes, without a bound."
  type        = bool
  default     = true
}

variable "db_backup_replication_retention_days" {
  description = "Days of the database's automated backups (snapshots and transaction logs) kept in the DR region: the window of point-in-time restores there."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_replication_retention_days >= 1 && var.db_backup_replication_retention_days <= 35
    error_message = "RDS keeps replicated automated backups 1 to 35 days."
  }
}

variable "backup_schedule" {
  description = "When AWS Backup snapshots the database (UTC cron): 23:00 is 04:30 in India, after the RDS backup window (20:30-21:30) and the weekly maintenance window (Tuesday 21:45-22:45)."
  type        = string
  default     = "cron(0 23 * * ? *)"
}

variable "backup_retention_days" {
  description = "Days AWS Backup keeps each daily database snapshot, in the primary region's vault and its copy in the DR region's vault."
  type        = number
  default     = 35

  validation {
    condition     = var.backup_retention_days >= var.backup_vault_min_retention_days && var.backup_retention_days <= var.backup_vault_max_retention_days
    error_message = "The locked vaults refuse recovery points kept shorter than backup_vault_min_retention_days or longer than backup_vault_max_retention_days."
  }
}

variable "backup_vault_lock" {
  description = "Vault Lock of both backup vaults. \"compliance\": after changeable_for_days nobody (no IAM principal, not the account's root) can delete a recovery point before its retention ends, shorten retention or remove the lock. \"governance\": the same, except for principals allowed to change the lock (for a rehearsal that is torn down again)."
  type        = string
  default     = "compliance"

  validation {
    condition     = contains(["compliance", "governance"], var.backup_vault_lock)
    error_message = "backup_vault_lock is \"compliance\" or \"governance\"."
  }
}

variable "backup_vault_lock_changeable_for_days" {
  description = "Compliance mode: days after the apply during which the lock can still be changed or removed; after that it is immutable."
  type        = number
  default     = 3

  validation {
    condition     = var.backup_vault_lock_changeable_for_days >= 3
    error_message = "AWS Backup needs at least 3 days of grace before a compliance lock takes hold."
  }
}

variable "backup_vault_min_retention_days" {
  description = "Shortest retention the locked vaults accept for a recovery point."
  type        = number
  default     = 7
}

variable "backup_vault_max_retention_days" {
  description = "Longest retention the locked vaults accept for a recovery point."
  type        = number
  default     = 365

  validation {
    condition     = var.backup_vault_max_retention_days >= var.backup_vault_min_retention_days
    error_message = "backup_vault_max_retention_days is below backup_vault_min_retention_days."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the non-empty DR bucket. Never true in production."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
