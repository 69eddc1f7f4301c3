# The whole environment plans and applies against a mocked AWS provider:
# every module wired, every argument accepted by the provider's schema, no
# provider but AWS, no download at plan time (the RDS CA bundle is read from
# the repository). The modules' own tests (modules/*/tests) check the seed.
mock_provider "aws" {
  source = "../../tests/mocks"
}

# The DR region's provider (modules/dr): configured in every environment,
# used only with dr_region, which staging leaves empty.
mock_provider "aws" {
  alias  = "dr"
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
  assert {
    condition     = output.dr_region == null && output.dr_s3_bucket_name == null && output.dr_backup_vault_name == null
    error_message = "Staging makes disaster recovery copies although dr_region is empty by default."
  }
}

run "name_too_long" {
  command = plan

  variables {
    name = "abcdefghijklmnopqrstuvwxyz-123456"
  }

  expect_failures = [var.name]
}

run "without_cdn" {
  command = plan

  assert {
    condition     = output.cdn_distribution_id == null
    error_message = "CloudFront is off unless the environment turns it on."
  }
}

run "alb_record" {
  command = apply

  variables {
    route53_zone_id = "Z0123456789ABCDEFGHIJ"
    alb_dns_name    = "k8s-durgapuj-pujo-0123456789-1234567890.us-east-1.elb.amazonaws.com"
  }

  assert {
    condition     = output.site_dns_records == { A = "k8s-durgapuj-pujo-0123456789-1234567890.us-east-1.elb.amazonaws.com" }
    error_message = "Without CloudFront the site's name is an A alias to the ALB (IPv4 only, no AAAA)."
  }
}

run "cdn" {
  command = apply

  variables {
    route53_zone_id   = "Z0123456789ABCDEFGHIJ"
    alb_dns_name      = "k8s-durgapuj-pujo-0123456789-1234567890.us-east-1.elb.amazonaws.com"
    cdn_enabled       = true
    cdn_origin_locked = true
  }

  assert {
    condition     = output.cdn_domain_name != null && output.cdn_web_acl_arn != null
    error_message = "cdn_enabled makes the distribution and its web ACL."
  }
  assert {
    condition     = output.site_dns_records == { A = output.cdn_domain_name, AAAA = output.cdn_domain_name }
    error_message = "With CloudFront the site's name (A and AAAA) points at the distribution, not the ALB."
  }
}

run "cdn_needs_the_alb" {
  command = plan

  variables {
    cdn_enabled = true
  }

  expect_failures = [var.cdn_enabled]
}
