terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
      # aws.dr: the region of the disaster recovery copies (modules/dr),
      # used only when dr_region is set.
      configuration_aliases = [aws.dr]
    }
  }
}
