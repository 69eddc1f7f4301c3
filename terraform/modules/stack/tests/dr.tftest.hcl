# The stack's one switch for the disaster recovery copies: dr_region empty,
# nothing outside the environment's region; set, modules/dr with the
# environment's own bucket, key and database. (The module takes the DR
# region's provider from its caller, so these tests are also what
# validates it: terraform validate cannot run on it alone.)
mock_provider "aws" {
  source = "../../tests/mocks"
}

mock_provider "aws" {
  alias  = "dr"
  source = "../../tests/mocks"

  mock_data "aws_region" {
    defaults = {
      id   = "us-west-2"
      name = "us-west-2"
    }
  }

  mock_resource "aws_kms_alias" {
    defaults = {
      arn = "arn:aws:kms:us-west-2:111122223333:alias/durga-puja-dr"
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
  name                         = "durga-puja"
  environment                  = "production"
  azs                          = ["us-east-1a", "us-east-1b", "us-east-1c"]
  kubernetes_version           = "1.35"
  endpoint_public_access_cidrs = ["203.0.113.0/24"]
  admin_principal_arns         = []
  domain_name                  = "pujo.example.org"
  route53_zone_id              = ""
  db_instance_class            = "db.t3.micro"
  redis_node_type              = "cache.t3.micro"
  spot_nodes_enabled           = true
  alb_dns_name                 = ""
  cdn_enabled                  = false
  cdn_origin_locked            = false
  cdn_price_class              = "PriceClass_200"
  dr_region                    = ""
  dr_backup_vault_lock         = "compliance"
}

run "without_dr_region" {
  command = apply

  assert {
    condition = (
      output.dr_region == null && output.dr_s3_bucket_name == null && output.dr_kms_key_id == null &&
      output.dr_db_automated_backups_arn == null && output.backup_vault_name == null &&
      output.dr_backup_vault_name == null && output.dr_backup_vault_lock == null
    )
    error_message = "Without dr_region the stack still makes copies in a second region."
  }
}

run "with_dr_region" {
  command = apply

  variables {
    dr_region = "us-west-2"
  }

  assert {
    condition     = output.dr_region == "us-west-2" && output.dr_backup_vault_lock == "compliance"
    error_message = "dr_region does not make the copies there under a compliance-mode Vault Lock."
  }
  assert {
    condition     = output.dr_s3_bucket_name == "durga-puja-dr-assets-111122223333" && output.dr_s3_bucket_name != output.s3_bucket_name
    error_message = "The photo replica is not the DR bucket."
  }
  assert {
    condition     = startswith(output.dr_kms_key_id, "arn:aws:kms:us-west-2:") && output.dr_db_automated_backups_arn != null
    error_message = "The DR key is not the DR region's, or the database's backups are not replicated."
  }
}
