# PostgreSQL as the seed asks: Multi-AZ, 7-day backups, encrypted, private,
# TLS-only, with this region's CA bundle from the repository.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  identifier        = "durga-puja-db"
  subnet_ids        = ["subnet-a", "subnet-b", "subnet-c"]
  security_group_id = "sg-rds"
  password          = "not-a-real-password-0123456789"
  kms_key_arn       = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
}

run "seed_database" {
  command = apply

  assert {
    condition     = aws_db_instance.this.multi_az == true && aws_db_instance.this.backup_retention_period == 7
    error_message = "RDS is not Multi-AZ with 7 days of backups."
  }
  assert {
    condition     = aws_db_instance.this.storage_encrypted == true && aws_db_instance.this.kms_key_id == var.kms_key_arn && aws_db_instance.this.publicly_accessible == false
    error_message = "RDS is not encrypted with the environment's key, or is public."
  }
  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "RDS does not force TLS."
  }
  assert {
    condition     = startswith(aws_db_instance.this.final_snapshot_identifier, "durga-puja-db-final-") && aws_db_instance.this.final_snapshot_identifier != "durga-puja-db-final-"
    error_message = "The final snapshot has a fixed name: a rebuilt environment could not be destroyed again."
  }
  assert {
    condition     = length(regexall("-----BEGIN CERTIFICATE-----", output.ca_bundle_pem)) >= 3
    error_message = "The us-east-1 RDS CA bundle (RSA2048, RSA4096 and ECC384 roots) is not read from ca-bundles/."
  }
}

run "no_bundle_for_the_region" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = {
      id   = "xx-nowhere-1"
      name = "xx-nowhere-1"
    }
  }

  expect_failures = [output.ca_bundle_pem]
}
