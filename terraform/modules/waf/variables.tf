variable "name" {
  description = "Name of the web ACL, e.g. \"durga-puja\"."
  type        = string
}

variable "rate_limit_per_5_minutes" {
  description = "Requests one client address may send in any 5 minutes before it is blocked (AWS WAF's minimum is 10)."
  type        = number
  default     = 3000

  validation {
    condition     = var.rate_limit_per_5_minutes >= 10
    error_message = "AWS WAF's lowest rate limit is 10."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the WAF log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the WAF logs in CloudWatch Logs (a year, like the other logs)."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
