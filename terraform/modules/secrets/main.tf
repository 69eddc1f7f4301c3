# Pujo's secrets in AWS Secrets Manager, one JSON secret whose keys are the
# PUJO_* setting names, plus RDS_CA_BUNDLE: the CA certificates Pujo
# verifies the database with (public, but this secret is the one way from
# Terraform into the pods). External Secrets copies them into the Kubernetes
# Secret `pujo-secrets` (deploy/kubernetes/base/externalsecret.yaml), which
# the pods mount as one file per key.

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:The password must change in RDS/ElastiCache and here together; docs/OPERATIONS.md has the rotation procedure.
  name                    = var.name
  description             = "Pujo: PUJO_DATABASE_URL, PUJO_REDIS_PASSWORD and the RDS CA bundle RDS_CA_BUNDLE"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days

  tags = var.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    PUJO_DATABASE_URL   = var.database_url
    PUJO_REDIS_PASSWORD = var.redis_password
    RDS_CA_BUNDLE       = var.db_ca_bundle
  })
}
