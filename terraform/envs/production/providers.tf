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

# The region of the disaster recovery copies (modules/dr). Without dr_region
# it points at the environment's own region and nothing uses it.
provider "aws" {
  alias  = "dr"
  region = var.dr_region == "" ? var.region : var.dr_region

  default_tags {
    tags = {
      Project     = "pujo"
      Environment = var.environment
      ManagedBy   = "terraform"
      Repository  = "pujo-app/pujo"
    }
  }
}
