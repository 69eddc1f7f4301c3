output "distribution_id" {
  description = "CloudFront distribution ID (aws cloudfront create-invalidation --distribution-id ...)."
  value       = aws_cloudfront_distribution.this.id
}

output "domain_name" {
  description = "The distribution's name (dxxxx.cloudfront.net): the alias target of domain_name's A and AAAA records."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "hosted_zone_id" {
  description = "Route 53 zone of the distribution's name, for alias records."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "media_cache_policy_id" {
  description = "Cache policy of /media/*."
  value       = aws_cloudfront_cache_policy.media.id
}
