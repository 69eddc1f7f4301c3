# --- Photos: the photo bucket replicated to the DR region -------------------
#
# The replica is a photo bucket like the original (modules/s3: versioned,
# SSE-KMS with the DR key, private, TLS only, the same lifecycle, access
# logs to its own -logs bucket there), so after a failover it serves as the
# photo bucket as it is.
#
# Deletions: S3 never replicates the deletion of a version, so nothing done
# to the photo bucket (by Pujo, an operator, or a stolen role) removes bytes
# from the replica. Delete markers ARE replicated: when Pujo deletes a photo's
# blobs (an account closed, `pujo blobs gc`), the replica hides them too and
# keeps them as non-current versions for 365 days, like the original. Without
# delete-marker replication the replica's current view would keep every photo
# ever deleted, for ever: a failover would show blobs their owners removed,
# and no lifecycle rule could tell them from live photos.

module "replica" {
  source = "../s3"
  providers = {
    aws = aws.dr
  }

  bucket_name   = "${local.dr_name}-assets-${data.aws_caller_identity.current.account_id}"
  kms_key_arn   = module.kms.key_arn
  force_destroy = var.force_destroy
  tags          = var.tags
}

locals {
  # Rules in a fixed order: S3 needs a distinct priority per rule.
  replication_rules = {
    for i, prefix in sort(keys(var.replicated_prefixes)) : prefix => {
      id            = "dr-${trimsuffix(prefix, "/")}"
      priority      = i + 1
      storage_class = var.replicated_prefixes[prefix]
    }
  }
}

# S3 alone may assume the role, and only a principal of this account that
# may pass it (iam:PassRole) can name it in a replication configuration.
# No aws:SourceArn condition: S3 replication does not document one, and a
# condition it does not meet would stop every replication without an error.
data "aws_iam_policy_document" "replication_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "replication" {
  name                 = "${var.name}-s3-replication"
  description          = "S3 replication of ${var.source_bucket_name} to ${module.replica.bucket_name} (${var.dr_region})"
  assume_role_policy   = data.aws_iam_policy_document.replication_assume.json
  max_session_duration = 3600

  tags = var.tags
}

# What S3 replication needs and nothing more: read the configuration and the
# replicated prefixes' versions here, write replicas (and delete markers,
# tags) under the same prefixes there; decrypt with the environment's key
# and encrypt with the DR key, each only through S3 in its own region and for
# its own bucket. With S3 Bucket Keys the encryption context is the bucket's
# ARN, without them the object's: both are allowed.
data "aws_iam_policy_document" "replication" {
  statement {
    sid       = "SourceConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [var.source_bucket_arn]
  }

  statement {
    sid = "ReadSourceVersions"
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = [for p in keys(var.replicated_prefixes) : "${var.source_bucket_arn}/${p}*"]
  }

  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = [for p in keys(var.replicated_prefixes) : "${module.replica.bucket_arn}/${p}*"]
  }

  statement {
    sid       = "DecryptSource"
    actions   = ["kms:Decrypt"]
    resources = [var.source_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.primary.id}.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = concat([var.source_bucket_arn], [for p in keys(var.replicated_prefixes) : "${var.source_bucket_arn}/${p}*"])
    }
  }

  statement {
    sid = "EncryptReplicas"
    # Decrypt too: S3 checks an S3 Bucket Key it reuses with it.
    actions   = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]
    resources = [module.kms.key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.dr.id}.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = concat([module.replica.bucket_arn], [for p in keys(var.replicated_prefixes) : "${module.replica.bucket_arn}/${p}*"])
    }
  }
}

resource "aws_iam_role_policy" "replication" {
  name   = "s3-replication"
  role   = aws_iam_role.replication.id
  policy = data.aws_iam_policy_document.replication.json
}

resource "aws_s3_bucket_replication_configuration" "photos" {
  role   = aws_iam_role.replication.arn
  bucket = var.source_bucket_name

  dynamic "rule" {
    for_each = local.replication_rules

    content {
      id       = rule.value.id
      priority = rule.value.priority
      status   = "Enabled"

      filter {
        prefix = rule.key
      }

      # See the top of this file: markers hide, they never delete a version.
      delete_marker_replication {
        status = "Enabled"
      }

      source_selection_criteria {
        sse_kms_encrypted_objects {
          status = "Enabled"
        }
      }

      destination {
        bucket        = module.replica.bucket_arn
        storage_class = rule.value.storage_class

        encryption_configuration {
          replica_kms_key_id = module.kms.key_arn
        }

        dynamic "replication_time" {
          for_each = var.replication_time_control ? [1] : []
          content {
            status = "Enabled"
            time {
              minutes = 15
            }
          }
        }

        dynamic "metrics" {
          for_each = var.replication_time_control ? [1] : []
          content {
            status = "Enabled"
            event_threshold {
              minutes = 15
            }
          }
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.regions_ok
      error_message = local.regions_error
    }
  }

  # The role's permissions first, or the first replications fail.
  depends_on = [aws_iam_role_policy.replication]
}
