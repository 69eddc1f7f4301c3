# The photo bucket: versioned, encrypted with the environment's key, private,
# and no lifecycle rule that deletes a current photo.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  bucket_name = "durga-puja-assets-111122223333"
  kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
}

run "seed_bucket" {
  command = plan

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "The photo bucket is not versioned."
  }
  assert {
    condition = anytrue([for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : anytrue([
      for d in r.apply_server_side_encryption_by_default : d.sse_algorithm == "aws:kms" && d.kms_master_key_id == var.kms_key_arn
    ])])
    error_message = "The photo bucket is not encrypted with the environment's KMS key."
  }
  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls &&
      aws_s3_bucket_public_access_block.this.block_public_policy &&
      aws_s3_bucket_public_access_block.this.ignore_public_acls &&
      aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "The photo bucket is not private."
  }
  assert {
    condition = alltrue([for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      # The rule for partial/ (checked below) expires unfinished resumable
      # uploads, never a photo.
      r.id == "expire-abandoned-partial-uploads" ? true : alltrue([
        # AWS allows days or date, or expired_object_delete_marker, in one
        # expiration: a rule that only removes delete markers deletes no photo.
        for e in r.expiration : e.expired_object_delete_marker == true
    ])])
    error_message = "A lifecycle rule expires current photos (an expiration with days or a date)."
  }
  assert {
    condition = alltrue([for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.filter[0].prefix == "partial/" if r.id == "expire-abandoned-partial-uploads"
    ])
    error_message = "The rule that expires abandoned resumable uploads reaches beyond partial/."
  }
}
