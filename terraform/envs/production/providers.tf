provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "pujo"
      Environment = var.environment
      ManagedBy   = "terraform"
      Repository  = "pujo-app/pujo"
    }
  }
}
