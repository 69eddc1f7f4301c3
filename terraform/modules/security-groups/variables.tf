variable "name" {
  description = "Name prefix; groups are named \"<name>-alb\", \"<name>-eks-nodes\", \"<name>-eks-control-plane\", \"<name>-rds\", \"<name>-redis\"."
  type        = string
}

variable "vpc_id" {
  description = "VPC the groups belong to."
  type        = string
}

variable "app_port" {
  description = "Container port Pujo listens on. With target-type ip the ALB connects to pod IPs on this port, not to a NodePort."
  type        = number
  default     = 8080
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
