output "resource_ids" {
  description = "Application Auto Scaling resource id of each scaling variant, of every kind (variant name => \"endpoint/<endpoint>/variant/<variant>\")."
  value = var.create ? {
    for k, t in merge(aws_appautoscaling_target.this, aws_appautoscaling_target.provisioned_concurrency, aws_appautoscaling_target.async_backlog) : k => t.resource_id
  } : null
}

output "scalable_target_arns" {
  description = "ARN of each variant's scalable target, of every kind (variant name => ARN)."
  value = var.create ? {
    for k, t in merge(aws_appautoscaling_target.this, aws_appautoscaling_target.provisioned_concurrency, aws_appautoscaling_target.async_backlog) : k => t.arn
  } : null
}

output "policy_arns" {
  description = "ARN of each variant's target-tracking policy (variant name => ARN)."
  value       = var.create ? { for k, p in aws_appautoscaling_policy.this : k => p.arn } : null
}

output "policy_names" {
  description = "Name of each variant's target-tracking policy (variant name => name)."
  value       = var.create ? { for k, p in aws_appautoscaling_policy.this : k => p.name } : null
}

output "provisioned_concurrency_policy_names" {
  description = "Name of each serverless variant's provisioned-concurrency target-tracking policy (variant name => name)."
  value       = var.create ? { for k, p in aws_appautoscaling_policy.provisioned_concurrency : k => p.name } : null
}

output "backlog_policy_names" {
  description = "Name of each asynchronous variant's backlog-per-instance target-tracking policy (variant name => name)."
  value       = var.create ? { for k, p in aws_appautoscaling_policy.async_backlog : k => p.name } : null
}

output "scale_out_from_zero_alarm_names" {
  description = "Name of each asynchronous variant's HasBacklogWithoutCapacity alarm, whose step policy starts one instance from zero (variant name => alarm name)."
  value       = var.create ? { for k, a in aws_cloudwatch_metric_alarm.scale_out_from_zero : k => a.alarm_name } : null
}
