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
  description = "PEM bundle of the RDS CAs of this region, fetched from the RDS truststore; what Pujo verifies the server certificate with (PUJO_DB_CA_FILE)."
  value       = data.http.ca_bundle.response_body
}

output "ca_bundle_url" {
  description = "Where ca_bundle_pem was fetched from."
  value       = data.http.ca_bundle.url
}
