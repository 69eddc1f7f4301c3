# The ALB's web ACL behind CloudFront: requests CloudFront forwards (its
# secret header) are rate-limited per viewer at the edge, not per edge
# address here; once locked, nothing else reaches the ALB.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name        = "durga-puja"
  kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
}

run "alone" {
  command = plan

  assert {
    condition     = aws_wafv2_web_acl.this.scope == "REGIONAL"
    error_message = "The ALB's web ACL is regional."
  }
  assert {
    condition = one([
      for r in aws_wafv2_web_acl.this.rule : length(r.statement[0].rate_based_statement[0].scope_down_statement) if r.name == "rate-limit-per-ip"
    ]) == 0
    error_message = "Without CloudFront every request counts towards its address's rate."
  }
  assert {
    condition     = length([for r in aws_wafv2_web_acl.this.rule : r if r.name == "require-cloudfront"]) == 0
    error_message = "Without CloudFront nothing is blocked for lacking its header."
  }
  assert {
    condition     = length(aws_wafv2_web_acl_logging_configuration.this.redacted_fields) == 2
    error_message = "The logs must leave out cookies and query strings (link keys)."
  }
}

run "behind_cloudfront_locked" {
  command = plan

  variables {
    origin_verify_enabled        = true
    require_origin_verify_header = true
    origin_verify_header = {
      name  = "X-Pujo-Origin-Verify"
      value = "MockedSecret0123456789"
    }
  }

  assert {
    condition = one([
      for r in aws_wafv2_web_acl.this.rule : length(r.statement[0].rate_based_statement[0].scope_down_statement[0].not_statement) if r.name == "rate-limit-per-ip"
    ]) == 1
    error_message = "Requests from CloudFront must not count towards an edge address's rate."
  }
  assert {
    condition = one([
      for r in aws_wafv2_web_acl.this.rule : r.priority if r.name == "require-cloudfront" && try(length(r.action[0].block), 0) == 1
    ]) == 0
    error_message = "Locked: requests without CloudFront's header are blocked first."
  }
}

run "cloudfront_scope" {
  command = plan

  variables {
    name  = "durga-puja-cdn"
    scope = "CLOUDFRONT"
  }

  assert {
    condition     = aws_wafv2_web_acl.this.scope == "CLOUDFRONT"
    error_message = "The distribution's web ACL has CLOUDFRONT scope."
  }
}
