variable "cluster_name" {
  description = "Name of the EKS cluster, e.g. \"durga-puja-eks\"."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and node groups. Keep it in EKS standard support (14 months after release); the checks validate the manifests against this version."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]+$", var.kubernetes_version))
    error_message = "Use a minor version such as \"1.35\"."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the control plane ENIs and the nodes (one per AZ)."
  type        = list(string)
}

variable "control_plane_security_group_id" {
  description = "Additional security group for the control plane ENIs (the seed's \"Control Plane Security Group\")."
  type        = string
}

variable "node_security_group_id" {
  description = "Security group of the worker nodes (the seed's \"EKS Worker Node Security Group\")."
  type        = string
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint (operators' and CI's addresses). The nodes use the private endpoint."
  type        = list(string)

  validation {
    condition     = length(var.endpoint_public_access_cidrs) > 0 && !contains(var.endpoint_public_access_cidrs, "0.0.0.0/0")
    error_message = "List the operators' networks; the API endpoint must not be open to the whole internet."
  }
}

variable "kms_key_arn" {
  description = "KMS key for envelope encryption of Kubernetes Secrets and for the control plane log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the control plane logs in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "container_log_retention_days" {
  description = "Retention of the container logs (Fluent Bit of the CloudWatch Observability add-on) in CloudWatch Logs; a year, like the control plane's, so an incident can be traced back across a festival season."
  type        = number
  default     = 365
}

variable "on_demand_node_group" {
  description = "The primary on-demand node group (seed: t3.medium, min 2, desired 3, max 5, 30 GB gp3)."
  type = object({
    instance_types = list(string)
    min_size       = number
    desired_size   = number
    max_size       = number
    disk_size_gb   = number
  })
  default = {
    instance_types = ["t3.medium"]
    min_size       = 2
    desired_size   = 3
    max_size       = 5
    disk_size_gb   = 30
  }
}

variable "spot_node_group" {
  description = "The optional spot node group (seed: t3.medium spot, min 0, desired 2, max 5). Set enabled = false to run on-demand only."
  type = object({
    enabled        = bool
    instance_types = list(string)
    min_size       = number
    desired_size   = number
    max_size       = number
    disk_size_gb   = number
  })
  default = {
    enabled        = true
    instance_types = ["t3.medium", "t3a.medium"]
    min_size       = 0
    desired_size   = 2
    max_size       = 5
    disk_size_gb   = 30
  }
}

variable "admin_principal_arns" {
  description = "IAM principals (roles of the operators, CI) given cluster-admin through EKS access entries."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
