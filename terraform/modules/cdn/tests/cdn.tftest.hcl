# CloudFront in front of Pujo: public photo sizes cached by Accept and ?key=
# only, nothing that depends on a cookie cached, the API never cached, HTTPS
# from the viewer to the ALB with TLS 1.2 or later.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                = "durga-puja"
  domain_name         = "pujo.example.org"
  origin_domain_name  = "k8s-durgapuj-pujo-0123456789-1234567890.us-east-1.elb.amazonaws.com"
  acm_certificate_arn = "arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"
  web_acl_arn         = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/durga-puja-cdn/00000000-0000-0000-0000-000000000000"
  origin_verify_header = {
    name  = "X-Pujo-Origin-Verify"
    value = "MockedSecret0123456789"
  }
}

run "media_cache_key" {
  command = apply

  assert {
    condition = (
      aws_cloudfront_cache_policy.media.parameters_in_cache_key_and_forwarded_to_origin[0].headers_config[0].header_behavior == "whitelist" &&
      toset(aws_cloudfront_cache_policy.media.parameters_in_cache_key_and_forwarded_to_origin[0].headers_config[0].headers[0].items) == toset(["Accept"])
    )
    error_message = "The media cache key must hold Accept (WebP or JPEG) and no other header."
  }
  assert {
    condition = (
      aws_cloudfront_cache_policy.media.parameters_in_cache_key_and_forwarded_to_origin[0].query_strings_config[0].query_string_behavior == "whitelist" &&
      toset(aws_cloudfront_cache_policy.media.parameters_in_cache_key_and_forwarded_to_origin[0].query_strings_config[0].query_strings[0].items) == toset(["key"])
    )
    error_message = "The media cache key must hold the link key (?key=) and no other query parameter."
  }
  assert {
    condition     = aws_cloudfront_cache_policy.media.parameters_in_cache_key_and_forwarded_to_origin[0].cookies_config[0].cookie_behavior == "none"
    error_message = "No cookie may be in the media cache key (one copy per visitor would defeat the cache)."
  }
  assert {
    condition     = aws_cloudfront_cache_policy.media.min_ttl == 0 && aws_cloudfront_cache_policy.media.default_ttl == 0
    error_message = "The edge must honour private/no-store and keep nothing Pujo did not mark cacheable (min and default TTL 0)."
  }
  assert {
    condition     = aws_cloudfront_cache_policy.media.max_ttl > 0 && aws_cloudfront_cache_policy.media.max_ttl <= 300
    error_message = "Public photos are kept at most five minutes, the bound on a visibility change (SECURITY.md)."
  }
  assert {
    condition = (
      aws_cloudfront_origin_request_policy.media.cookies_config[0].cookie_behavior == "whitelist" &&
      aws_cloudfront_origin_request_policy.media.cookies_config[0].cookies[0].items == toset(["__Host-pujo_session"]) &&
      aws_cloudfront_origin_request_policy.media.query_strings_config[0].query_string_behavior == "none" &&
      aws_cloudfront_origin_request_policy.media.headers_config[0].headers[0].items == toset(["Host"])
    )
    error_message = "A media cache miss sends Pujo the Host and the session cookie only (no other cookie, header or query string)."
  }
}

run "behaviours" {
  command = apply

  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.cache_policy_id if b.path_pattern == "/api/*"
    ]) == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    error_message = "/api/* must use the managed CachingDisabled policy."
  }
  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.origin_request_policy_id if b.path_pattern == "/api/*"
    ]) == "216adef6-5c7f-47e4-b989-5492eafa07d3"
    error_message = "/api/* must pass every header, cookie and query string through (managed AllViewer)."
  }
  assert {
    condition = (
      aws_cloudfront_distribution.this.default_cache_behavior[0].cache_policy_id == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" &&
      aws_cloudfront_distribution.this.default_cache_behavior[0].origin_request_policy_id == "216adef6-5c7f-47e4-b989-5492eafa07d3" &&
      contains(aws_cloudfront_distribution.this.default_cache_behavior[0].allowed_methods, "POST")
    )
    error_message = "Pages and uploads must pass through uncached with everything the viewer sent."
  }
  assert {
    condition     = [for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.path_pattern] == ["/api/*", "/media/*/original", "/media/*"]
    error_message = "Originals must match before /media/* (the first matching pattern wins), so they are never cached."
  }
  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.cache_policy_id if b.path_pattern == "/media/*/original"
    ]) == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    error_message = "Originals (Vary: Cookie) must not be cached."
  }
  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.cache_policy_id if b.path_pattern == "/media/*"
    ]) == aws_cloudfront_cache_policy.media.id
    error_message = "/media/* must use the media cache policy."
  }
  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : [
        for f in b.function_association : f.event_type if f.function_arn == aws_cloudfront_function.normalize_accept.arn
      ] if b.path_pattern == "/media/*"
    ]) == ["viewer-request"]
    error_message = "Accept must be normalised before the cache lookup (viewer request) on /media/*."
  }
  assert {
    condition = alltrue([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : toset(b.cached_methods) == toset(["GET", "HEAD"])
    ])
    error_message = "Only GET and HEAD answers may ever be cached."
  }
}

run "transport" {
  command = apply

  assert {
    condition = alltrue(concat(
      [aws_cloudfront_distribution.this.default_cache_behavior[0].viewer_protocol_policy != "allow-all"],
      [for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.viewer_protocol_policy != "allow-all"],
    ))
    error_message = "Viewers must use HTTPS (redirect-to-https or https-only)."
  }
  assert {
    condition = (
      aws_cloudfront_distribution.this.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021" &&
      aws_cloudfront_distribution.this.viewer_certificate[0].ssl_support_method == "sni-only" &&
      aws_cloudfront_distribution.this.viewer_certificate[0].acm_certificate_arn == var.acm_certificate_arn
    )
    error_message = "Viewers get the site's certificate with TLS 1.2 or later (TLSv1.2_2021)."
  }
  assert {
    condition = alltrue([
      for o in aws_cloudfront_distribution.this.origin : (
        o.custom_origin_config[0].origin_protocol_policy == "https-only" &&
        o.custom_origin_config[0].origin_ssl_protocols == toset(["TLSv1.2"])
      )
    ])
    error_message = "CloudFront must reach the ALB over HTTPS with TLS 1.2 only."
  }
  assert {
    condition = alltrue([
      for o in aws_cloudfront_distribution.this.origin : anytrue([
        for h in o.custom_header : h.name == "X-Pujo-Origin-Verify"
      ])
    ])
    error_message = "Every origin request must carry the header the ALB's web ACL recognises CloudFront by."
  }
  assert {
    condition     = aws_cloudfront_distribution.this.web_acl_id == var.web_acl_arn
    error_message = "The distribution must be guarded by the CLOUDFRONT web ACL (the rate rule per viewer)."
  }
  assert {
    condition     = aws_cloudfront_distribution.this.aliases == toset(["pujo.example.org"])
    error_message = "The distribution must answer for the site's name."
  }
  assert {
    condition     = length(aws_cloudfront_distribution.this.logging_config) == 0
    error_message = "Standard logs stay off (they would record ?key= link keys; the web ACL logs requests with query strings redacted)."
  }
  assert {
    condition = alltrue([
      for e in aws_cloudfront_distribution.this.custom_error_response : e.error_caching_min_ttl == 0
    ]) && length(aws_cloudfront_distribution.this.custom_error_response) == 5
    error_message = "Errors (404 for someone without the cookie or key, 5xx during a rollout) must not be kept at the edge."
  }
}

run "max_ttl_bounded" {
  command = plan

  variables {
    media_max_ttl_seconds = 3600
  }

  expect_failures = [var.media_max_ttl_seconds]
}
