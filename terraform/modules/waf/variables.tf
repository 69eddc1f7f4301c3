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

variable "scope" {
  description = "REGIONAL for the ALB, CLOUDFRONT for the distribution of modules/cdn (created in us-east-1)."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "CLOUDFRONT"], var.scope)
    error_message = "scope is REGIONAL or CLOUDFRONT."
  }
}

variable "origin_verify_enabled" {
  description = "CloudFront is in front of this ALB and adds origin_verify_header to every request it forwards (a plain bool, so it can decide which rules exist while the header's value stays sensitive)."
  type        = bool
  default     = false
}

variable "origin_verify_header" {
  description = "Header name and secret value CloudFront adds to the requests it forwards; requests carrying it are rate-limited at the edge instead of here."
  type = object({
    name  = string
    value = string
  })
  default   = null
  sensitive = true
}

variable "require_origin_verify_header" {
  description = "Block every request without origin_verify_header: only CloudFront may reach the ALB. Set once DNS points at CloudFront (docs/DEPLOYMENT.md, 3.12)."
  type        = bool
  default     = false
}
