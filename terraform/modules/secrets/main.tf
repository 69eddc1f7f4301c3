# Pujo's secrets in AWS Secrets Manager, one JSON secret whose keys are the
# PUJO_* setting names. External Secrets copies them into the Kubernetes
# Secret `pujo-secrets` (deploy/kubernetes/base/externalsecret.yaml).

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:The password must change in RDS/ElastiCache and here together; docs/OPERATIONS.md has the rotation procedure.
  name                    = var.name
  description             = "Pujo: PUJO_DATABASE_URL and PUJO_REDIS_PASSWORD"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days

  tags = var.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    PUJO_DATABASE_URL   = var.database_url
    PUJO_REDIS_PASSWORD = var.redis_password
  })
}
