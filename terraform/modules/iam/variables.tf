variable "name" {
  description = "Name prefix of the roles, e.g. \"durga-puja\" gives \"durga-puja-pujo-app\"."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster name; scopes the load balancer controller's and the autoscaler's write permissions to resources tagged for this cluster."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_provider" {
  description = "OIDC issuer without https:// (the prefix of the IRSA condition keys)."
  type        = string
}

variable "app_namespace" {
  description = "Kubernetes namespace of Pujo."
  type        = string
  default     = "durga-puja"
}

variable "app_service_account" {
  description = "ServiceAccount Pujo's pods run as."
  type        = string
  default     = "pujo"
}

variable "external_secrets_service_account" {
  description = "ServiceAccount the SecretStore of Pujo's namespace authenticates as."
  type        = string
  default     = "pujo-external-secrets"
}

variable "bucket_arn" {
  description = "ARN of the photo bucket, the only bucket the app may touch."
  type        = string
}

variable "bucket_prefixes" {
  description = "Key prefixes the app reads and writes."
  type        = list(string)
  default     = ["uploads/", "thumbnails/", "partial/"]
}

variable "kms_key_arn" {
  description = "KMS key encrypting the bucket and the secrets."
  type        = string
}

variable "app_secret_arns" {
  description = "Secrets Manager secrets External Secrets may read for Pujo."
  type        = list(string)
}

variable "alerts_topic_arn" {
  description = "SNS topic Alertmanager publishes alerts to (operators subscribe to it)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
