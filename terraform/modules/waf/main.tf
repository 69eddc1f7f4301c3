# AWS WAF in front of Pujo's ALB: AWS's managed rule groups for common web
# attacks, known bad inputs and IP reputation, and a per-address rate rule
# for a public upload site on festival nights. The ALB is made by the AWS
# Load Balancer Controller, so the association is the Ingress annotation
# alb.ingress.kubernetes.io/wafv2-acl-arn (output web_acl_arn).
#
# The same rules guard the CloudFront distribution (modules/cdn) with
# scope = "CLOUDFRONT", where they see the viewer's own address. Behind
# CloudFront the ALB sees only CloudFront's addresses, so the ALB's web ACL
# leaves requests that carry CloudFront's origin header (origin_verify_header)
# to the edge's rate rule, and with require_origin_verify_header it refuses
# every request that did not come through the distribution.

locals {
  managed_rule_groups = {
    # name = priority
    AWSManagedRulesAmazonIpReputationList = 10
    AWSManagedRulesCommonRuleSet          = 20
    AWSManagedRulesKnownBadInputsRuleSet  = 30
  }
}

resource "aws_wafv2_web_acl" "this" {
  #checkov:skip=CKV_AWS_192:AWSManagedRulesKnownBadInputsRuleSet (Log4j lookups) is in local.managed_rule_groups; checkov does not expand the dynamic block.
  name        = var.name
  description = var.scope == "CLOUDFRONT" ? "Pujo's CloudFront distribution: managed rule groups and a rate limit per viewer address" : "Pujo's ALB: managed rule groups and a rate limit per client address"
  scope       = var.scope

  default_action {
    allow {}
  }

  # Only CloudFront reaches the origin: a request without the header
  # CloudFront adds (a client that found the ALB's own name) is refused,
  # so nobody skips the edge's rate rule, and the X-Forwarded-For that
  # reaches Pujo always ends with the address CloudFront saw.
  dynamic "rule" {
    for_each = var.origin_verify_enabled && var.require_origin_verify_header ? ["origin-verify"] : []

    content {
      name     = "require-cloudfront"
      priority = 0

      action {
        block {}
      }

      statement {
        not_statement {
          statement {
            byte_match_statement {
              search_string         = var.origin_verify_header.value
              positional_constraint = "EXACTLY"

              field_to_match {
                single_header {
                  name = lower(var.origin_verify_header.name)
                }
              }

              text_transformation {
                priority = 0
                type     = "NONE"
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.name}-require-cloudfront"
        sampled_requests_enabled   = true
      }
    }
  }

  # Too many requests from one address in any 5 minutes: blocked until it
  # slows down. Many phones share a carrier's NAT address on a festival
  # night, so the limit is generous (var.rate_limit_per_5_minutes).
  rule {
    name     = "rate-limit-per-ip"
    priority = 1

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.rate_limit_per_5_minutes
        aggregate_key_type = "IP"

        # Behind CloudFront the address is an edge's, shared by everyone
        # that edge serves: those requests were already counted per viewer
        # by the distribution's web ACL, so only the others count here.
        dynamic "scope_down_statement" {
          for_each = var.origin_verify_enabled ? ["not-from-cloudfront"] : []

          content {
            not_statement {
              statement {
                byte_match_statement {
                  search_string         = var.origin_verify_header.value
                  positional_constraint = "EXACTLY"

                  field_to_match {
                    single_header {
                      name = lower(var.origin_verify_header.name)
                    }
                  }

                  text_transformation {
                    priority = 0
                    type     = "NONE"
                  }
                }
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  dynamic "rule" {
    for_each = local.managed_rule_groups

    content {
      name     = rule.key
      priority = rule.value

      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.key

          # Photo uploads are bodies of up to 30 MiB: the common rule set's
          # 8 KiB body limit would block every one, so that rule only counts.
          dynamic "rule_action_override" {
            for_each = rule.key == "AWSManagedRulesCommonRuleSet" ? ["SizeRestrictions_BODY"] : []

            content {
              name = rule_action_override.value
              action_to_use {
                count {}
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.name}-${rule.key}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

# Blocked and counted requests, for tuning the rules (the name must start
# with aws-waf-logs-).
resource "aws_cloudwatch_log_group" "this" {
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.this.arn]

  # Session cookies and CSRF tokens stay out of the logs, and so do query
  # strings: an unlisted album's link key travels as ?key= (SECURITY.md).
  redacted_fields {
    single_header {
      name = "cookie"
    }
  }

  redacted_fields {
    query_string {}
  }
}
