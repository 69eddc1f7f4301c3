# CloudFront in front of the whole site, so festival-night photo traffic is
# served at the edge: public photos' sizes (/media/{id}/thumb|medium|display)
# are cached for as long as Pujo allows (public, max-age=300), everything
# else passes through to the ALB uncached with every header, cookie and
# query string. Why the whole site and not a media host: Pujo's pages link
# photos on their own origin and serve them with
# Cross-Origin-Resource-Policy: same-origin, so a second host would need
# changes to Pujo, and the session cookie (__Host-) belongs to the site's
# own name. docs/DEPLOYMENT.md, 3.12.

locals {
  origin_id = "alb"

  # AWS's managed policies (IDs from the CloudFront Developer Guide, "Use
  # managed cache policies" / "Use managed origin request policies").
  caching_disabled_policy_id = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" # CachingDisabled
  all_viewer_policy_id       = "216adef6-5c7f-47e4-b989-5492eafa07d3" # AllViewer: every header (Host too), cookie and query string
}

data "aws_region" "current" {}

# Public photos: one copy per format and link key. Accept (normalised to
# image/webp or image/jpeg by the function below) and ?key= are the only
# things Pujo's answer depends on when it is public. No cookie is in the key.
# TTLs: nothing is cached that Pujo did not mark cacheable (default 0, min 0:
# CloudFront honours private and no-store, so an answer that varies on
# Cookie is never kept), and never longer than five minutes (max).
resource "aws_cloudfront_cache_policy" "media" {
  name        = "${var.name}-media"
  comment     = "Pujo /media/*: Accept and ?key= in the key, no cookies, origin Cache-Control up to ${var.media_max_ttl_seconds} s"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = var.media_max_ttl_seconds

  parameters_in_cache_key_and_forwarded_to_origin {
    # JPEG and WebP do not compress further.
    enable_accept_encoding_gzip   = false
    enable_accept_encoding_brotli = false

    headers_config {
      header_behavior = "whitelist"
      headers {
        items = ["Accept"]
      }
    }

    cookies_config {
      cookie_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "whitelist"
      query_strings {
        items = ["key"]
      }
    }
  }
}

# What a /media/* cache miss sends to Pujo beyond the cache key: the Host
# (the ALB's certificate and the Ingress rule are for domain_name) and the
# session cookie alone, so an owner still sees their private photos. The
# cookie is not in the cache key: Pujo never reads it for what it marks
# public, and what depends on it is private (Vary: Cookie), which the cache
# policy above never stores.
resource "aws_cloudfront_origin_request_policy" "media" {
  name    = "${var.name}-media"
  comment = "Pujo /media/*: Host and the session cookie to the origin, outside the cache key"

  headers_config {
    header_behavior = "whitelist"
    headers {
      items = ["Host"]
    }
  }

  cookies_config {
    cookie_behavior = "whitelist"
    cookies {
      items = [var.session_cookie_name]
    }
  }

  query_strings_config {
    query_string_behavior = "none"
  }
}

resource "aws_cloudfront_function" "normalize_accept" {
  name    = "${var.name}-media-accept"
  comment = "Accept of /media/* as image/webp or image/jpeg, as Pujo chooses"
  runtime = "cloudfront-js-2.0"
  publish = true
  code    = file("${path.module}/normalize-accept.js")
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_86:No standard access logs: they need an S3 bucket with ACLs enabled (the log bucket enforces bucket-owner ownership) and would record ?key= link keys. The distribution's web ACL logs every request (query strings redacted) and cache misses reach the ALB's access logs.
  #checkov:skip=CKV_AWS_310:One origin: the ALB spans three AZs and its health checks already route around a failed pod; there is no second origin to fail over to.
  #checkov:skip=CKV_AWS_374:Pujo is public by design; visitors of Durga Puja come from everywhere.
  #checkov:skip=CKV_AWS_305:No default root object: / is Pujo's own page, answered by the origin.
  #checkov:skip=CKV2_AWS_32:Pujo sets its own security headers (HSTS, CSP, frame and referrer policy) on every answer; a response headers policy would duplicate or override them.
  #checkov:skip=CKV2_AWS_47:The web ACL (modules/waf, scope CLOUDFRONT) has AWSManagedRulesKnownBadInputsRuleSet in a dynamic block checkov does not expand.
  enabled         = true
  comment         = "Pujo ${var.domain_name}"
  aliases         = [var.domain_name]
  is_ipv6_enabled = true
  http_version    = "http2and3"
  price_class     = var.price_class
  web_acl_id      = var.web_acl_arn

  origin {
    origin_id   = local.origin_id
    domain_name = var.origin_domain_name

    # Lets the ALB's web ACL tell CloudFront's requests from direct ones.
    # CloudFront replaces a viewer's header of the same name.
    custom_header {
      name  = var.origin_verify_header.name
      value = var.origin_verify_header.value
    }

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
      # The silent stretch of an upload (decoding and storing after the last
      # byte) may take as long as the ALB's idle timeout (60 s).
      origin_read_timeout = 60
      # Below the ALB's idle timeout (60 s), so CloudFront never reuses a
      # connection the ALB is closing.
      origin_keepalive_timeout = 50
    }
  }

  # Pages, uploads and everything else: straight to Pujo, uncached.
  default_cache_behavior {
    target_origin_id         = local.origin_id
    viewer_protocol_policy   = "redirect-to-https"
    allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods           = ["GET", "HEAD"]
    cache_policy_id          = local.caching_disabled_policy_id
    origin_request_policy_id = local.all_viewer_policy_id
    compress                 = false
  }

  # The API: never cached at the edge (Pujo caches answers itself, and
  # invalidates them on every write).
  ordered_cache_behavior {
    path_pattern             = "/api/*"
    target_origin_id         = local.origin_id
    viewer_protocol_policy   = "https-only"
    allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods           = ["GET", "HEAD"]
    cache_policy_id          = local.caching_disabled_policy_id
    origin_request_policy_id = local.all_viewer_policy_id
    compress                 = false
  }

  # Originals depend on who asks (the owner's has its EXIF, others get a
  # stripped copy or 404) and are large and rarely fetched: uncached.
  ordered_cache_behavior {
    path_pattern             = "/media/*/original"
    target_origin_id         = local.origin_id
    viewer_protocol_policy   = "redirect-to-https"
    allowed_methods          = ["GET", "HEAD", "OPTIONS"]
    cached_methods           = ["GET", "HEAD"]
    cache_policy_id          = local.caching_disabled_policy_id
    origin_request_policy_id = local.all_viewer_policy_id
    compress                 = false
  }

  # Thumbnails and display sizes: cached when Pujo says public.
  ordered_cache_behavior {
    path_pattern             = "/media/*"
    target_origin_id         = local.origin_id
    viewer_protocol_policy   = "redirect-to-https"
    allowed_methods          = ["GET", "HEAD", "OPTIONS"]
    cached_methods           = ["GET", "HEAD"]
    cache_policy_id          = aws_cloudfront_cache_policy.media.id
    origin_request_policy_id = aws_cloudfront_origin_request_policy.media.id
    compress                 = false

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.normalize_accept.arn
    }
  }

  # Errors are not kept at the edge: a 404 for someone without the right
  # cookie or key must not answer the owner, and a brief 5xx during a
  # rollout must not outlive it. (Pujo's errors are no-store anyway.)
  dynamic "custom_error_response" {
    for_each = [404, 500, 502, 503, 504]

    content {
      error_code            = custom_error_response.value
      error_caching_min_ttl = 0
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.acm_certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = data.aws_region.current.id == "us-east-1"
      error_message = "CloudFront takes certificates and CLOUDFRONT-scope web ACLs from us-east-1: call modules/cdn (and its modules/waf) with a us-east-1 provider."
    }
  }
}
