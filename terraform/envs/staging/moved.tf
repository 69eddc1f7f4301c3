# State addresses from before terraform/modules/stack, when this root called
# the modules itself: the objects move into module.stack unchanged, so
# `terraform plan` shows moves and no destroy/create. Keep these until every
# copy of this environment's state has been applied once with them; removing
# them earlier would plan the whole environment anew.
#
# One object is not moved: the photo bucket's random suffix
# (random_id.bucket_suffix) is gone, because the bucket is now named after
# the account (<name>-assets-<account id>). An environment applied before
# that has an empty bucket under the old name (Pujo did not write to S3
# yet); docs/DEPLOYMENT.md ("An environment applied before ...") says how to
# let go of it before the plan replaces it.

moved {
  from = module.kms
  to   = module.stack.module.kms
}

moved {
  from = module.vpc
  to   = module.stack.module.vpc
}

moved {
  from = module.security_groups
  to   = module.stack.module.security_groups
}

moved {
  from = module.eks
  to   = module.stack.module.eks
}

moved {
  from = module.rds
  to   = module.stack.module.rds
}

moved {
  from = module.elasticache
  to   = module.stack.module.elasticache
}

moved {
  from = module.s3
  to   = module.stack.module.s3
}

moved {
  from = module.secrets
  to   = module.stack.module.secrets
}

moved {
  from = module.iam
  to   = module.stack.module.iam
}

moved {
  from = aws_acm_certificate.site
  to   = module.stack.aws_acm_certificate.site
}

moved {
  from = aws_route53_record.site_validation
  to   = module.stack.aws_route53_record.site_validation
}

moved {
  from = aws_acm_certificate_validation.site
  to   = module.stack.aws_acm_certificate_validation.site
}

# The generated passwords were random_password (hashicorp/random) and are now
# drawn by Secrets Manager and kept in terraform_data (modules/stack). State
# from before forgets the old objects without destroying anything; the first
# apply then sets new passwords in RDS, ElastiCache and the secret together
# (docs/OPERATIONS.md, "Secrets rotation", for restarting the pods after).
removed {
  from = module.stack.random_password.db

  lifecycle {
    destroy = false
  }
}

removed {
  from = module.stack.random_password.redis

  lifecycle {
    destroy = false
  }
}
