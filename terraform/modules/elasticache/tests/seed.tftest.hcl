# Redis as the seed asks: a primary and a replica with failover, encrypted
# in transit (required) and at rest, AUTH on.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  replication_group_id = "durga-puja-redis"
  subnet_ids           = ["subnet-a", "subnet-b", "subnet-c"]
  security_group_id    = "sg-redis"
  auth_token           = "not-a-real-token-0123456789abcdef"
  kms_key_arn          = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
}

run "seed_cache" {
  command = apply

  assert {
    condition     = aws_elasticache_replication_group.this.num_cache_clusters >= 2 && aws_elasticache_replication_group.this.automatic_failover_enabled && aws_elasticache_replication_group.this.multi_az_enabled
    error_message = "Redis has no replica in another AZ with automatic failover."
  }
  assert {
    condition = (
      aws_elasticache_replication_group.this.transit_encryption_enabled &&
      aws_elasticache_replication_group.this.transit_encryption_mode == "required" &&
      tostring(aws_elasticache_replication_group.this.at_rest_encryption_enabled) == "true" &&
      aws_elasticache_replication_group.this.kms_key_id == var.kms_key_arn
    )
    error_message = "Redis is not encrypted in transit (required) and at rest with the environment's key."
  }
  assert {
    condition     = startswith(aws_elasticache_replication_group.this.final_snapshot_identifier, "durga-puja-redis-final-") && aws_elasticache_replication_group.this.final_snapshot_identifier != "durga-puja-redis-final-"
    error_message = "The final snapshot has a fixed name."
  }
}
