terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    # The region's RDS CA bundle (data "http" "ca_bundle").
    http = {
      source  = "hashicorp/http"
      version = "~> 3.4"
    }
  }
}
