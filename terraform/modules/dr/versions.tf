terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
      # aws: the environment's region (the photo bucket, the database, the
      # backup plan); aws.dr: the second region that holds the copies.
      configuration_aliases = [aws.dr]
    }
  }
}
