# Handed out once the bucket is versioned: S3 replication (modules/dr)
# refuses a source or destination bucket without versioning.
output "bucket_name" {
  description = "Name of the photo bucket (PUJO_S3_BUCKET)."
  value       = aws_s3_bucket.this.id
  depends_on  = [aws_s3_bucket_versioning.this]
}

output "bucket_arn" {
  description = "ARN of the photo bucket."
  value       = aws_s3_bucket.this.arn
  depends_on  = [aws_s3_bucket_versioning.this]
}

output "bucket_region" {
  description = "Region of the photo bucket (PUJO_S3_REGION)."
  value       = aws_s3_bucket.this.region
}

output "logs_bucket_name" {
  description = "Name of the bucket holding the photo bucket's server access logs."
  value       = aws_s3_bucket.logs.id
}
