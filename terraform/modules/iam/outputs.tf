output "app_role_arn" {
  description = "IRSA role of Pujo (ServiceAccount annotation eks.amazonaws.com/role-arn of durga-puja/pujo)."
  value       = aws_iam_role.this["pujo-app"].arn
}

output "external_secrets_role_arn" {
  description = "IRSA role of the namespace's SecretStore (ServiceAccount pujo-external-secrets)."
  value       = aws_iam_role.this["external-secrets"].arn
}

output "lb_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller (value serviceAccount.annotations of its chart)."
  value       = aws_iam_role.this["aws-load-balancer-controller"].arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of the cluster autoscaler (value rbac.serviceAccount.annotations of its chart)."
  value       = aws_iam_role.this["cluster-autoscaler"].arn
}

output "alertmanager_role_arn" {
  description = "IRSA role of Alertmanager (kube-prometheus-stack value alertmanager.serviceAccount.annotations)."
  value       = aws_iam_role.this["alertmanager"].arn
}
