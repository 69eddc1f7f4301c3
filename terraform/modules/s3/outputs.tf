output "bucket_name" {
  description = "Name of the photo bucket (PUJO_S3_BUCKET)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the photo bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_region" {
  description = "Region of the photo bucket (PUJO_S3_REGION)."
  value       = aws_s3_bucket.this.region
}

output "logs_bucket_name" {
  description = "Name of the bucket holding the photo bucket's server access logs."
  value       = aws_s3_bucket.logs.id
}
