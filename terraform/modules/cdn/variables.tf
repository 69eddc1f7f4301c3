variable "name" {
  description = "Name prefix of the distribution's policies and function, e.g. \"durga-puja\"."
  type        = string
}

variable "domain_name" {
  description = "Public host name of the site (the distribution's alternate domain name; the same name the Ingress serves)."
  type        = string
}

variable "origin_domain_name" {
  description = "The ALB's DNS name (kubectl -n durga-puja get ingress pujo -o jsonpath='{.status.loadBalancer.ingress[0].hostname}'). CloudFront connects to it over HTTPS with the viewer's Host, so the ALB's certificate for domain_name is what it verifies."
  type        = string

  validation {
    condition     = length(var.origin_domain_name) > 0
    error_message = "origin_domain_name is the ALB's DNS name; it is known after the first ArgoCD sync."
  }
}

variable "acm_certificate_arn" {
  description = "Issued ACM certificate for domain_name in us-east-1 (CloudFront's region for certificates)."
  type        = string
}

variable "web_acl_arn" {
  description = "CLOUDFRONT-scope web ACL (modules/waf with scope = \"CLOUDFRONT\"): the rate rule per viewer address."
  type        = string
}

variable "origin_verify_header" {
  description = "Header name and secret value added to every request CloudFront sends to the ALB; the ALB's web ACL recognises CloudFront by it."
  type = object({
    name  = string
    value = string
  })
  sensitive = true
}

variable "session_cookie_name" {
  description = "Pujo's session cookie (__Host-pujo_session over HTTPS). It reaches the origin on a /media/* cache miss, so owners see their private photos, and is never part of the cache key."
  type        = string
  default     = "__Host-pujo_session"
}

variable "price_class" {
  description = "CloudFront price class. PriceClass_200 includes the edges in India, where most of Pujo's visitors are; PriceClass_100 does not."
  type        = string
  default     = "PriceClass_200"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class is PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "media_max_ttl_seconds" {
  description = "Longest time the edge keeps a public photo without asking Pujo again, whatever the origin says: at most the five minutes within which a visibility change must reach shared caches (docs/SECURITY.md)."
  type        = number
  default     = 300

  validation {
    condition     = var.media_max_ttl_seconds >= 0 && var.media_max_ttl_seconds <= 300
    error_message = "A visibility change must reach shared caches within five minutes: at most 300."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
