variable "bucket_name" {
  description = "Name of the photo bucket (the seed's durga-puja-assets-{unique-id}); globally unique."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for server-side encryption (SSE-KMS with an S3 bucket key, so per-object KMS calls stay rare)."
  type        = string
}

variable "infrequent_access_after_days" {
  description = "Move current objects to S3 Standard-IA after this many days (the seed: 90). Photos are still served from there, just cheaper to keep."
  type        = number
  default     = 90

  validation {
    condition     = var.infrequent_access_after_days >= 30
    error_message = "S3 does not allow the STANDARD_IA transition earlier than 30 days."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Delete overwritten or deleted (non-current) object versions after this many days. Current objects - people's photos - are never expired."
  type        = number
  default     = 365
}

variable "access_log_retention_days" {
  description = "Days the server access logs of the photo bucket are kept."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a non-empty bucket. Never true in production."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
