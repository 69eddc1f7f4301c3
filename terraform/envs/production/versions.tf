terraform {
  # 1.10 brought S3-native state locking (use_lockfile); 1.11 write-only
  # arguments and ephemeral values.
  required_version = ">= 1.11.0, < 2.0.0"

  # Only the AWS provider: passwords, the OIDC provider and the RDS CA
  # bundle need no random, tls or http provider (terraform/README.md).
  # 5.100 is the oldest release tested (scripts/check-infra.sh runs it);
  # nothing here relies on what 6.x removed.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
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
