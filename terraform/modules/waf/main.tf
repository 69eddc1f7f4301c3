# AWS WAF in front of Pujo's ALB: AWS's managed rule groups for common web
# attacks, known bad inputs and IP reputation, and a per-address rate rule
# for a public upload site on festival nights. The ALB is made by the AWS
# Load Balancer Controller, so the association is the Ingress annotation
# alb.ingress.kubernetes.io/wafv2-acl-arn (output web_acl_arn).

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
  description = "Pujo's ALB: managed rule groups and a rate limit per client address"
  scope       = "REGIONAL"

  default_action {
    allow {}
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

  # Session cookies and CSRF tokens stay out of the logs.
  redacted_fields {
    single_header {
      name = "cookie"
    }
  }
}
