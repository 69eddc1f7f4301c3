# Redis for sessions (24 h), API responses (5 min) and query results
# (10 min): a primary and a replica in different AZs with automatic failover,
# encrypted at rest and in transit, AUTH required, daily snapshots.

resource "aws_elasticache_subnet_group" "this" {
  name        = var.replication_group_id
  description = "Database subnets of ${var.replication_group_id}"
  subnet_ids  = var.subnet_ids

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/aws/elasticache/${var.replication_group_id}/slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

# Drawn when the group is created and kept.
resource "terraform_data" "final_snapshot_suffix" {
  input = formatdate("YYYYMMDDhhmmss", timestamp())

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.replication_group_id
  description          = "Pujo sessions and caches"

  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = "default.redis7"

  # Cluster mode disabled (as the seed): one shard, primary + replicas.
  num_cache_clusters         = var.num_cache_clusters
  automatic_failover_enabled = true
  multi_az_enabled           = true

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [var.security_group_id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = var.auth_token
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit = var.snapshot_retention_days
  snapshot_window          = var.snapshot_window
  maintenance_window       = var.maintenance_window
  # Unique per group: a fixed name would block the next destroy of a
  # rebuilt environment (the first final snapshot still holds it).
  final_snapshot_identifier = "${var.replication_group_id}-final-${terraform_data.final_snapshot_suffix.output}"

  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = var.tags
}
