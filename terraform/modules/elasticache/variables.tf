variable "replication_group_id" {
  description = "Replication group ID, e.g. \"durga-puja-redis\" (at most 40 characters)."
  type        = string
}

variable "subnet_ids" {
  description = "Database subnets, one per AZ."
  type        = list(string)
}

variable "security_group_id" {
  description = "The seed's ElastiCache security group (6379 from the EKS nodes only)."
  type        = string
}

variable "engine_version" {
  description = "Redis OSS engine version (7.x)."
  type        = string
  default     = "7.1"

  # Pujo's counters use PEXPIRE ... NX, new in Redis 7.0.
  validation {
    condition     = can(regex("^7\\.", var.engine_version))
    error_message = "Pujo needs Redis 7 (PEXPIRE NX); ElastiCache's Redis OSS 7.x."
  }
}

variable "node_type" {
  description = "Cache node type (seed: cache.t3.micro)."
  type        = string
  default     = "cache.t3.micro"
}

variable "num_cache_clusters" {
  description = "Nodes in the group: one primary plus replicas (at least 2 for Multi-AZ failover)."
  type        = number
  default     = 2

  validation {
    condition     = var.num_cache_clusters >= 2
    error_message = "Automatic failover needs a primary and at least one replica."
  }
}

variable "auth_token" {
  description = "Redis AUTH token (16-128 printable characters without '/', '\"', '@'); stored in Secrets Manager for Pujo."
  type        = string
  sensitive   = true

  # ElastiCache's own rules, checked at plan time instead of failing the
  # apply halfway through creating the replication group.
  validation {
    condition     = length(var.auth_token) >= 16 && length(var.auth_token) <= 128 && can(regex("^[!#-.0-?A-~]+$", var.auth_token))
    error_message = "auth_token must be 16-128 printable ASCII characters without spaces, '/', '\"' or '@'."
  }
}

variable "snapshot_retention_days" {
  description = "Days of daily snapshots kept."
  type        = number
  default     = 7
}

variable "snapshot_window" {
  description = "Daily snapshot window (UTC)."
  type        = string
  default     = "19:00-20:00"
}

variable "maintenance_window" {
  description = "Weekly maintenance window (UTC)."
  type        = string
  default     = "wed:21:00-wed:22:00"
}

variable "kms_key_arn" {
  description = "KMS key for at-rest encryption and the slow log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the Redis slow log in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
