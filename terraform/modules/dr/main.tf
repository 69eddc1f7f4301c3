# Disaster recovery copies of one environment's data in a second region
# (provider aws.dr), for the two things Pujo cannot make again: the
# database and the photos. Redis holds only copies, and everything else is
# rebuilt from Terraform and git.
#
#   database  RDS automated backups replicated to the DR region: point-in-time
#             restores there, within minutes of the last write.
#             AWS Backup: a daily snapshot in a locked vault here, copied to a
#             locked vault there: a copy that nobody, not even a compromised
#             administrator of the account, can delete before it expires.
#   photos    S3 replication of uploads/ and thumbnails/ (not partial/) to a
#             versioned bucket there, encrypted with a key of that region.
#
# The DR key and bucket carry the names a `<name>-dr` environment in the DR
# region would give its own (modules/kms and modules/s3 with name <name>-dr):
# an environment rebuilt there under that name can adopt them (terraform
# import) instead of starting empty. docs/OPERATIONS.md, "Disaster recovery
# on EKS", is the runbook.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "primary" {}

data "aws_region" "dr" {
  provider = aws.dr
}

locals {
  dr_name = "${var.name}-dr"
  # Both region checks, stated once and asserted where a wrong region would
  # do harm (a "DR" copy next to the original, or in a region the
  # environment did not choose).
  regions_ok = data.aws_region.dr.id == var.dr_region && data.aws_region.dr.id != data.aws_region.primary.id
  regions_error = format(
    "The DR provider's region (%s) must be dr_region (%s) and not the environment's own region (%s).",
    data.aws_region.dr.id, var.dr_region, data.aws_region.primary.id,
  )
}

# The DR region's key: the photo replicas, the replicated database backups
# and the DR backup vault are encrypted with it. KMS keys never leave their
# region, so a copy in another region needs a key there.
module "kms" {
  source = "../kms"
  providers = {
    aws = aws.dr
  }

  name = local.dr_name
  tags = var.tags
}
