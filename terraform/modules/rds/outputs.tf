output "address" {
  description = "Host name of the primary (follows a Multi-AZ failover)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the application database."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "arn" {
  description = "ARN of the DB instance."
  value       = aws_db_instance.this.arn
}

output "identifier" {
  description = "Identifier of the DB instance."
  value       = aws_db_instance.this.identifier
}

output "ca_bundle_pem" {
  description = "PEM bundle of the RDS CAs of this region (ca-bundles/<region>-bundle.pem); what Pujo verifies the server certificate with (PUJO_DB_CA_FILE)."
  value       = local.ca_bundle

  precondition {
    condition     = strcontains(local.ca_bundle, "-----BEGIN CERTIFICATE-----") && length(local.ca_bundle) < 48000
    error_message = "No RDS CA bundle for this region in ${local.ca_bundle_file} (or it is over 48000 bytes); add it as terraform/modules/rds/README.md says."
  }
}
