output "alb_security_group_id" {
  description = "ID of the ALB security group."
  value       = aws_security_group.this["alb"].id
}

output "alb_security_group_name" {
  description = "Name tag of the ALB security group; the Ingress annotation alb.ingress.kubernetes.io/security-groups refers to it by this name."
  value       = local.group_names["alb"]
}

output "node_security_group_id" {
  description = "ID of the EKS worker node security group."
  value       = aws_security_group.this["nodes"].id
}

output "control_plane_security_group_id" {
  description = "ID of the additional EKS control plane security group."
  value       = aws_security_group.this["control_plane"].id
}

output "rds_security_group_id" {
  description = "ID of the RDS security group."
  value       = aws_security_group.this["rds"].id
}

output "redis_security_group_id" {
  description = "ID of the ElastiCache security group."
  value       = aws_security_group.this["redis"].id
}
