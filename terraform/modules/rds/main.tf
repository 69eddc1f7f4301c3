# PostgreSQL for Pujo's users, photos, albums, comments and sessions:
# Multi-AZ, encrypted, TLS-only, in the database subnets, never public.

data "aws_partition" "current" {}

data "aws_region" "current" {}

# The CA certificates that sign this region's RDS server certificates
# (ca_cert_identifier below, and the other RDS CAs a rotation could move
# to). They are not in the system's or the image's roots, and Pujo verifies
# the server's chain and host name, so it needs this bundle
# (PUJO_DB_CA_FILE): the stack stores it next to the database URL in
# Secrets Manager. The bundle is committed in ca-bundles/<region>-bundle.pem,
# the region's CAs from https://truststore.pki.rds.amazonaws.com (README.md
# says how to add a region or refresh it), so a plan needs no download and
# a change to it shows up in review. The region's bundle, not the global
# one (every region's CAs): it must fit in a 64 KiB secret.
locals {
  ca_bundle_file = "${path.module}/ca-bundles/${data.aws_region.current.id}-bundle.pem"
  ca_bundle      = fileexists(local.ca_bundle_file) ? file(local.ca_bundle_file) : ""
}

# A fixed final-snapshot name would stop the second destroy of an
# environment rebuilt under the same name (the first snapshot still holds
# it). The suffix is drawn when the instance is created and kept.
resource "terraform_data" "final_snapshot_suffix" {
  input = formatdate("YYYYMMDDhhmmss", timestamp())

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_db_subnet_group" "this" {
  name        = var.identifier
  description = "Database subnets of ${var.identifier}"
  subnet_ids  = var.subnet_ids

  tags = var.tags
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.identifier}-pg${split(".", var.engine_version)[0]}-"
  family      = "postgres${split(".", var.engine_version)[0]}"
  description = "Pujo settings for ${var.identifier}"

  # Clients must use TLS.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Log statements slower than 500 ms and all DDL (schema changes).
  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.identifier}-enhanced-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_353:Performance Insights is a variable, off by default: the seed's db.t3.micro class does not offer it.
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name  = var.database_name
  username = var.username
  password = var.password
  port     = 5432

  storage_type          = "gp3"
  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  # The CA of the server certificate; ca-bundles/ holds it. Change
  # it only after the pods trust the new CA (docs/OPERATIONS.md, "RDS CA
  # rotation").
  ca_cert_identifier = var.ca_cert_identifier

  iam_database_authentication_enabled = true

  backup_retention_period  = var.backup_retention_days
  backup_window            = var.backup_window
  maintenance_window       = var.maintenance_window
  copy_tags_to_snapshot    = true
  delete_automated_backups = false

  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final-${terraform_data.final_snapshot_suffix.output}"

  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  apply_immediately           = false

  monitoring_interval = var.monitoring_interval_seconds
  monitoring_role_arn = aws_iam_role.monitoring.arn

  performance_insights_enabled    = var.performance_insights_enabled
  performance_insights_kms_key_id = var.performance_insights_enabled ? var.kms_key_arn : null

  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]

  tags = var.tags

  depends_on = [aws_iam_role_policy_attachment.monitoring]
}
