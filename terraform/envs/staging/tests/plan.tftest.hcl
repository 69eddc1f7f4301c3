# The whole environment plans and applies against a mocked AWS provider:
# every module wired, every argument accepted by the provider's schema, no
# provider but AWS, no download at plan time (the RDS CA bundle is read from
# the repository). The modules' own tests (modules/*/tests) check the seed.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  endpoint_public_access_cidrs = ["203.0.113.0/24"]
  admin_principal_arns         = ["arn:aws:iam::111122223333:role/operators"]
  domain_name                  = "pujo.example.org"
}

run "environment" {
  command = apply

  assert {
    condition     = output.alb_subnet_cidrs == ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
    error_message = "The ALB's subnets are not the seed's public subnets."
  }
  assert {
    condition     = output.cluster_name == "durga-puja-staging-eks"
    error_message = "The cluster is not named after the environment (deploy/argocd names it)."
  }
  assert {
    condition     = startswith(output.redis_url, "rediss://") && !strcontains(output.redis_url, "@")
    error_message = "PUJO_REDIS_URL is not TLS, or holds a password."
  }
  assert {
    condition     = output.app_secret_name == "pujo/staging/app"
    error_message = "The secret is not where the ExternalSecret reads it."
  }
}

run "name_too_long" {
  command = plan

  variables {
    name = "abcdefghijklmnopqrstuvwxyz-123456"
  }

  expect_failures = [var.name]
}
