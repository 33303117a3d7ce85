output "resource_ids" {
  description = "Application Auto Scaling resource id of each scaling variant (variant name => \"endpoint/<endpoint>/variant/<variant>\")."
  value       = var.create ? { for k, t in aws_appautoscaling_target.this : k => t.resource_id } : null
}

output "scalable_target_arns" {
  description = "ARN of each variant's scalable target (variant name => ARN)."
  value       = var.create ? { for k, t in aws_appautoscaling_target.this : k => t.arn } : null
}

output "policy_arns" {
  description = "ARN of each variant's target-tracking policy (variant name => ARN)."
  value       = var.create ? { for k, p in aws_appautoscaling_policy.this : k => p.arn } : null
}

output "policy_names" {
  description = "Name of each variant's target-tracking policy (variant name => name)."
  value       = var.create ? { for k, p in aws_appautoscaling_policy.this : k => p.name } : null
}
