variable "name" {
  description = "Secrets Manager name of Pujo's secret, e.g. \"pujo/production/app\" (the ExternalSecret's remoteRef key)."
  type        = string
}

variable "database_url" {
  description = "Full PostgreSQL URL Pujo connects with (PUJO_DATABASE_URL), including the password and sslmode."
  type        = string
  sensitive   = true
}

variable "redis_password" {
  description = "The ElastiCache AUTH token (PUJO_REDIS_PASSWORD)."
  type        = string
  sensitive   = true
}

variable "db_ca_bundle" {
  description = "PEM CA certificates that sign the database's server certificate (the RDS bundle), stored as RDS_CA_BUNDLE; the pods read it through PUJO_DB_CA_FILE."
  type        = string

  validation {
    condition     = strcontains(var.db_ca_bundle, "-----BEGIN CERTIFICATE-----")
    error_message = "db_ca_bundle must hold PEM certificates."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the secret."
  type        = string
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
