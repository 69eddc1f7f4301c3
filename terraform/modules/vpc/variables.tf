variable "name" {
  description = "Name prefix for every resource, e.g. \"durga-puja\" (the VPC is named \"<name>-vpc\")."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC. The seed plan is 10.0.0.0/16."
  type        = string
  default     = "10.0.0.0/16"
}

variable "azs" {
  description = "Availability zones, one per subnet of each tier, in the same order as the CIDR lists."
  type        = list(string)

  validation {
    condition     = length(var.azs) == 3
    error_message = "The seed plan spans exactly three availability zones."
  }
}

variable "public_subnet_cidrs" {
  description = "Public subnets (ALB, NAT gateways), one per AZ."
  type        = list(string)
  default     = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
}

variable "private_subnet_cidrs" {
  description = "Private subnets (EKS nodes and pods), one per AZ; default route through the NAT gateway of the same AZ."
  type        = list(string)
  default     = ["10.0.11.0/24", "10.0.12.0/24", "10.0.13.0/24"]
}

variable "database_subnet_cidrs" {
  description = "Database subnets (RDS, ElastiCache), one per AZ; no route to the internet at all."
  type        = list(string)
  default     = ["10.0.21.0/24", "10.0.22.0/24", "10.0.23.0/24"]
}

variable "cluster_name" {
  description = "EKS cluster name, used in the subnet tags the AWS Load Balancer Controller discovers subnets by."
  type        = string
}

variable "flow_log_retention_days" {
  description = "How long VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the flow log group."
  type        = string
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints in the private subnets (com.amazonaws.<region>.<service>)."
  type        = list(string)
  default     = ["sts", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "s3"]
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
