output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnet IDs, in AZ order."
  value       = [for az in var.azs : aws_subnet.public[az].id]
}

output "public_subnet_cidrs" {
  description = "CIDRs of the public subnets (load balancers), in AZ order."
  value       = [for az in var.azs : aws_subnet.public[az].cidr_block]
}

output "private_subnet_ids" {
  description = "Private subnet IDs (EKS nodes and pods), in AZ order."
  value       = [for az in var.azs : aws_subnet.private[az].id]
}

output "database_subnet_ids" {
  description = "Database subnet IDs (RDS, ElastiCache), in AZ order."
  value       = [for az in var.azs : aws_subnet.database[az].id]
}

output "nat_public_ips" {
  description = "Public IPs of the NAT gateways: what third parties see as Pujo's outbound addresses."
  value       = [for az in var.azs : aws_eip.nat[az].public_ip]
}

output "interface_endpoint_services" {
  description = "Services reached through interface endpoints in the private subnets."
  value       = sort(keys(aws_vpc_endpoint.interface))
}
