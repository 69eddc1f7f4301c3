# The seed's network, planned with a mocked AWS provider (no account, no
# network): scripts/check-infra.sh runs `terraform test` here.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name         = "durga-puja"
  cluster_name = "durga-puja-eks"
  azs          = ["us-east-1a", "us-east-1b", "us-east-1c"]
  kms_key_arn  = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
}

run "seed_network" {
  command = apply

  assert {
    condition     = aws_vpc.this.cidr_block == "10.0.0.0/16"
    error_message = "The VPC is not the seed's 10.0.0.0/16."
  }
  assert {
    condition = (
      [for az in var.azs : aws_subnet.public[az].cidr_block] == ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"] &&
      [for az in var.azs : aws_subnet.private[az].cidr_block] == ["10.0.11.0/24", "10.0.12.0/24", "10.0.13.0/24"] &&
      [for az in var.azs : aws_subnet.database[az].cidr_block] == ["10.0.21.0/24", "10.0.22.0/24", "10.0.23.0/24"]
    )
    error_message = "The nine subnets are not the seed's CIDR plan, one of each tier per AZ."
  }
  assert {
    condition = alltrue([for az in var.azs : (
      aws_subnet.public[az].availability_zone == az &&
      aws_subnet.private[az].availability_zone == az &&
      aws_subnet.database[az].availability_zone == az
    )])
    error_message = "A subnet is not in the AZ of its position in the plan."
  }
  assert {
    condition = length(aws_nat_gateway.this) == 3 && alltrue([
      for az in var.azs : aws_nat_gateway.this[az].subnet_id == aws_subnet.public[az].id
    ])
    error_message = "Not one NAT gateway in each AZ's public subnet."
  }
  assert {
    condition = alltrue([
      for az in var.azs : (
        aws_route.private_nat[az].nat_gateway_id == aws_nat_gateway.this[az].id &&
        aws_route.private_nat[az].route_table_id == aws_route_table.private[az].id &&
        aws_route_table_association.private[az].route_table_id == aws_route_table.private[az].id
      )
    ])
    error_message = "A private subnet does not leave through the NAT gateway of its own AZ."
  }
  assert {
    condition = (
      alltrue([for r in aws_route.private_nat : r.route_table_id != aws_route_table.database.id]) &&
      aws_route.public_internet.route_table_id != aws_route_table.database.id &&
      alltrue([for a in aws_route_table_association.database : a.route_table_id == aws_route_table.database.id]) &&
      length(aws_route_table_association.database) == 3
    )
    error_message = "A database subnet has a route out of the VPC (or is not on the database route table)."
  }
  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["sts", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "s3"])
    error_message = "Missing interface endpoints: STS, ECR, Logs, Secrets Manager or S3 traffic would cross the NAT gateways."
  }
}
