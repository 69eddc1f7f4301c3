output "secret_arn" {
  description = "ARN of the secret."
  value       = aws_secretsmanager_secret.app.arn
}

output "secret_name" {
  description = "Name of the secret (the ExternalSecret's remoteRef key)."
  value       = aws_secretsmanager_secret.app.name
}
