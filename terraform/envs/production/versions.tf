terraform {
  # 1.10 brought S3-native state locking (use_lockfile).
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    # modules/rds fetches the region's RDS CA bundle with it.
    http = {
      source  = "hashicorp/http"
      version = "~> 3.4"
    }
  }

  # Remote state in S3, encrypted, locked with an S3 lock file (no DynamoDB
  # table needed). The bucket is account-specific, so it is given at init:
  #   terraform init -backend-config="bucket=<state bucket>"
  # docs/DEPLOYMENT.md shows how to create that bucket once.
  backend "s3" {
    key          = "pujo/production/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
