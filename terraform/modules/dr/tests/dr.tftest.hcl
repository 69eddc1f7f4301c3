# The copies of the database and the photos in the DR region: in another
# region than the original, encrypted with that region's key, the photo
# replication without partial/, the backup vaults locked.
mock_provider "aws" {
  source = "../../tests/mocks"
}

# The DR region's provider answers as us-west-2, so what it makes carries
# that region in its ARN: an assertion on the region of a key's ARN is an
# assertion that the DR provider made it.
mock_provider "aws" {
  alias  = "dr"
  source = "../../tests/mocks"

  mock_data "aws_region" {
    defaults = {
      id   = "us-west-2"
      name = "us-west-2"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-west-2:111122223333:key/11111111-1111-1111-1111-111111111111"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      id  = "durga-puja-dr-assets-111122223333"
      arn = "arn:aws:s3:::durga-puja-dr-assets-111122223333"
    }
  }

  mock_resource "aws_backup_vault" {
    defaults = {
      arn = "arn:aws:backup:us-west-2:111122223333:backup-vault:durga-puja-dr-backup"
    }
  }
}

variables {
  name               = "durga-puja"
  dr_region          = "us-west-2"
  source_bucket_name = "durga-puja-assets-111122223333"
  source_bucket_arn  = "arn:aws:s3:::durga-puja-assets-111122223333"
  source_kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
  db_instance_arn    = "arn:aws:rds:us-east-1:111122223333:db:durga-puja-db"
}

run "copies_in_the_dr_region" {
  command = apply

  assert {
    condition     = output.dr_region == "us-west-2" && output.dr_region != "us-east-1"
    error_message = "The copies are not in the DR region, or are in the environment's own region."
  }
  assert {
    condition     = startswith(output.kms_key_arn, "arn:aws:kms:us-west-2:") && output.kms_key_arn != var.source_kms_key_arn
    error_message = "The DR key is not a key of the DR region."
  }
  assert {
    condition     = output.replica_bucket_name == "durga-puja-dr-assets-111122223333"
    error_message = "The replica is not named as the <name>-dr environment's photo bucket would be."
  }
}

run "photo_replication" {
  command = apply

  assert {
    condition     = toset([for r in aws_s3_bucket_replication_configuration.photos.rule : r.filter[0].prefix]) == toset(["thumbnails/", "uploads/"])
    error_message = "The replication does not cover exactly uploads/ and thumbnails/."
  }
  assert {
    condition = alltrue([for r in aws_s3_bucket_replication_configuration.photos.rule :
      !startswith(r.filter[0].prefix, "partial/") && r.filter[0].prefix != "" && r.status == "Enabled"
    ])
    error_message = "A replication rule reaches partial/ (chunks of unfinished uploads) or the whole bucket."
  }
  assert {
    condition     = length(distinct([for r in aws_s3_bucket_replication_configuration.photos.rule : r.priority])) == 2
    error_message = "Replication rules need distinct priorities."
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.photos.bucket == var.source_bucket_name
    error_message = "The replication is not configured on the photo bucket."
  }
  assert {
    condition = alltrue([for r in aws_s3_bucket_replication_configuration.photos.rule :
      r.destination[0].bucket == output.replica_bucket_arn &&
      r.destination[0].encryption_configuration[0].replica_kms_key_id == output.kms_key_arn &&
      startswith(r.destination[0].encryption_configuration[0].replica_kms_key_id, "arn:aws:kms:us-west-2:")
    ])
    error_message = "Replicas do not go to the DR bucket encrypted with the DR region's key."
  }
  assert {
    condition = alltrue([for r in aws_s3_bucket_replication_configuration.photos.rule :
      r.source_selection_criteria[0].sse_kms_encrypted_objects[0].status == "Enabled"
    ])
    error_message = "SSE-KMS objects (every photo) are not replicated: S3 skips them unless told."
  }
  assert {
    condition = alltrue([for r in aws_s3_bucket_replication_configuration.photos.rule :
      r.delete_marker_replication[0].status == "Enabled"
    ])
    error_message = "Delete markers are not replicated: the replica would keep every deleted photo current for ever."
  }
  assert {
    condition = alltrue([for r in aws_s3_bucket_replication_configuration.photos.rule :
      r.destination[0].replication_time[0].status == "Enabled" && r.destination[0].replication_time[0].time[0].minutes == 15 &&
      r.destination[0].metrics[0].status == "Enabled"
    ])
    error_message = "Replication Time Control (15 minutes, with metrics) is off."
  }
  assert {
    condition = ({ for r in aws_s3_bucket_replication_configuration.photos.rule : r.filter[0].prefix => r.destination[0].storage_class }) == {
      "uploads/"    = "STANDARD_IA"
      "thumbnails/" = "STANDARD"
    }
    error_message = "Originals (rarely read) go to Standard-IA, thumbnails (small, read at once after a failover) to Standard."
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.photos.role == aws_iam_role.replication.arn
    error_message = "The replication does not use its own role."
  }
}

run "database_copies" {
  command = apply

  assert {
    condition = (
      aws_db_instance_automated_backups_replication.this.source_db_instance_arn == var.db_instance_arn &&
      aws_db_instance_automated_backups_replication.this.kms_key_id == output.kms_key_arn &&
      aws_db_instance_automated_backups_replication.this.retention_period == 7
    )
    error_message = "The database's automated backups are not replicated for 7 days with the DR key."
  }
  assert {
    condition     = aws_backup_vault.dr.kms_key_arn == output.kms_key_arn && aws_backup_vault.primary.kms_key_arn == var.source_kms_key_arn
    error_message = "A backup vault is not encrypted with its region's key."
  }
  assert {
    condition = alltrue([for l in [aws_backup_vault_lock_configuration.primary, aws_backup_vault_lock_configuration.dr] :
      l.changeable_for_days == 3 && l.min_retention_days == 7 && l.max_retention_days == 365
    ])
    error_message = "The vaults are not under a compliance-mode Vault Lock (changeable for 3 days, retention 7-365 days)."
  }
  assert {
    condition = (
      aws_backup_vault_lock_configuration.primary.backup_vault_name == aws_backup_vault.primary.name &&
      aws_backup_vault_lock_configuration.dr.backup_vault_name == aws_backup_vault.dr.name
    )
    error_message = "The locks are not on the vaults the plan uses."
  }
  assert {
    condition = alltrue([for r in aws_backup_plan.this.rule :
      r.target_vault_name == aws_backup_vault.primary.name &&
      one(r.lifecycle).delete_after == 35 &&
      length(r.copy_action) == 1 &&
      alltrue([for c in r.copy_action : c.destination_vault_arn == aws_backup_vault.dr.arn && one(c.lifecycle).delete_after == 35])
    ])
    error_message = "The daily snapshot is not kept 35 days and copied to the DR vault for as long."
  }
  assert {
    condition     = aws_backup_selection.database.resources == toset([var.db_instance_arn]) && aws_backup_selection.database.plan_id == aws_backup_plan.this.id
    error_message = "The backup plan does not select the database."
  }
}

run "governance_lock_for_a_rehearsal" {
  command = plan

  variables {
    backup_vault_lock = "governance"
  }

  assert {
    condition     = aws_backup_vault_lock_configuration.dr.changeable_for_days == null && aws_backup_vault_lock_configuration.primary.changeable_for_days == null
    error_message = "Governance mode is a lock without a date (changeable_for_days unset)."
  }
}

run "without_replication_time_control" {
  command = plan

  variables {
    replication_time_control = false
  }

  assert {
    condition = alltrue([for r in aws_s3_bucket_replication_configuration.photos.rule :
      length(r.destination[0].replication_time) == 0 && length(r.destination[0].metrics) == 0
    ])
    error_message = "replication_time_control = false still turns RTC on."
  }
}

run "dr_region_is_the_primary_region" {
  command = plan

  variables {
    dr_region = "us-east-1"
  }

  override_data {
    target = data.aws_region.dr
    values = {
      id   = "us-east-1"
      name = "us-east-1"
    }
  }

  expect_failures = [
    aws_s3_bucket_replication_configuration.photos,
    aws_db_instance_automated_backups_replication.this,
  ]
}

run "dr_provider_in_another_region_than_dr_region" {
  command = plan

  variables {
    dr_region = "eu-west-1"
  }

  expect_failures = [
    aws_s3_bucket_replication_configuration.photos,
    aws_db_instance_automated_backups_replication.this,
  ]
}

run "partial_uploads_are_not_replicated" {
  command = plan

  variables {
    replicated_prefixes = {
      "uploads/" = "STANDARD"
      "partial/" = "STANDARD"
    }
  }

  expect_failures = [var.replicated_prefixes]
}

run "the_whole_bucket_is_not_replicated" {
  command = plan

  variables {
    replicated_prefixes = {
      "" = "STANDARD"
    }
  }

  expect_failures = [var.replicated_prefixes]
}

run "retention_the_lock_refuses" {
  command = plan

  variables {
    backup_retention_days = 3
  }

  expect_failures = [var.backup_retention_days]
}
