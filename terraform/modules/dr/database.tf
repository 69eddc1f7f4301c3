# --- Database: two copies in the DR region, for two different failures ------
#
# 1. RDS automated backups replicated to the DR region (snapshots and
#    transaction logs): a point-in-time restore there to within about five
#    minutes of the last write, over db_backup_replication_retention_days.
#    The answer to losing the region. Anyone who may manage RDS in the
#    account can stop the replication or delete the replicated backups.
# 2. AWS Backup: a daily snapshot in a vault here, copied to a vault there,
#    both under Vault Lock. In compliance mode, once the grace days are over,
#    no one can delete a recovery point before backup_retention_days or lift
#    the lock: not an operator by mistake, not a stolen administrator
#    session, not the account's root. The answer to losing the account's
#    good faith; a day's worth of writes is the price.

resource "aws_db_instance_automated_backups_replication" "this" {
  provider = aws.dr

  source_db_instance_arn = var.db_instance_arn
  kms_key_id             = module.kms.key_arn
  retention_period       = var.db_backup_replication_retention_days

  lifecycle {
    precondition {
      condition     = local.regions_ok
      error_message = local.regions_error
    }
  }
}

# --- AWS Backup ---------------------------------------------------------------

resource "aws_backup_vault" "primary" {
  name        = "${var.name}-backup"
  kms_key_arn = var.source_kms_key_arn

  tags = var.tags
}

resource "aws_backup_vault" "dr" {
  provider = aws.dr

  name = "${local.dr_name}-backup"
  # Copies across regions are encrypted anew with the destination vault's key.
  kms_key_arn = module.kms.key_arn

  tags = var.tags
}

locals {
  # Compliance mode is a lock with a date; governance mode has none.
  lock_changeable_for_days = var.backup_vault_lock == "compliance" ? var.backup_vault_lock_changeable_for_days : null
}

resource "aws_backup_vault_lock_configuration" "primary" {
  backup_vault_name   = aws_backup_vault.primary.name
  changeable_for_days = local.lock_changeable_for_days
  min_retention_days  = var.backup_vault_min_retention_days
  max_retention_days  = var.backup_vault_max_retention_days
}

resource "aws_backup_vault_lock_configuration" "dr" {
  provider = aws.dr

  backup_vault_name   = aws_backup_vault.dr.name
  changeable_for_days = local.lock_changeable_for_days
  min_retention_days  = var.backup_vault_min_retention_days
  max_retention_days  = var.backup_vault_max_retention_days
}

resource "aws_backup_plan" "this" {
  name = "${var.name}-database"

  rule {
    rule_name         = "daily-with-dr-copy"
    target_vault_name = aws_backup_vault.primary.name
    schedule          = var.backup_schedule
    # Minutes: start within an hour, finish (with the copy) within four.
    start_window      = 60
    completion_window = 240

    lifecycle {
      delete_after = var.backup_retention_days
    }

    copy_action {
      destination_vault_arn = aws_backup_vault.dr.arn

      lifecycle {
        delete_after = var.backup_retention_days
      }
    }

    recovery_point_tags = merge(var.tags, { Backup = "${var.name}-database" })
  }

  tags = var.tags

  # Recovery points land in vaults that already refuse early deletion.
  depends_on = [
    aws_backup_vault_lock_configuration.primary,
    aws_backup_vault_lock_configuration.dr,
  ]
}

# The trust policy of AWS Backup's own default role: AWS Backup alone.
data "aws_iam_policy_document" "backup_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  name                 = "${var.name}-backup"
  description          = "AWS Backup of ${var.db_instance_arn}, copied to ${var.dr_region}"
  assume_role_policy   = data.aws_iam_policy_document.backup_assume.json
  max_session_duration = 3600

  tags = var.tags
}

# AWS's policies for what AWS Backup does for each service (RDS snapshots
# and their copies), and for restores from the vaults.
resource "aws_iam_role_policy_attachment" "backup" {
  for_each = toset(["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"])

  role       = aws_iam_role.backup.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/${each.key}"
}

# The two keys the snapshots and their copies are encrypted with: a backup
# job whose role cannot use them "succeeds" without a usable recovery point.
data "aws_iam_policy_document" "backup_keys" {
  statement {
    sid = "UseTheBackupKeys"
    actions = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:DescribeKey",
    ]
    resources = [var.source_kms_key_arn, module.kms.key_arn]
  }

  statement {
    sid       = "GrantsForAwsServices"
    actions   = ["kms:CreateGrant"]
    resources = [var.source_kms_key_arn, module.kms.key_arn]
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
}

resource "aws_iam_role_policy" "backup_keys" {
  name   = "backup-keys"
  role   = aws_iam_role.backup.id
  policy = data.aws_iam_policy_document.backup_keys.json
}

resource "aws_backup_selection" "database" {
  name         = "${var.name}-database"
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = aws_iam_role.backup.arn
  resources    = [var.db_instance_arn]

  depends_on = [
    aws_iam_role_policy_attachment.backup,
    aws_iam_role_policy.backup_keys,
  ]
}
