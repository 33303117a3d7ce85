output "resource_ids" {
  description = "Application Auto Scaling resource id of each scaling variant, of every kind (variant name => \"endpoint/<endpoint>/variant/<variant>\")."
  value = var.create ? {
    for k, t in aws_appautoscaling_target.this : k => t.resource_id
  } : null
}

output "scalable_target_arns" {
  description = "ARN of each variant's scalable target, of every kind (variant name => ARN)."
  value = var.create ? {
    for k, t in aws_appautoscaling_target.this : k => t.arn
  } : null
}

output "policy_arns" {
  description = "ARN of each variant's target-tracking policy, of every kind (variant name => ARN)."
  value       = var.create ? { for k, p in aws_appautoscaling_policy.this : k => p.arn } : null
}

output "policy_names" {
  description = "Name of each variant's target-tracking policy, of every kind (variant name => name): <endpoint>-<variant>-invocations-per-instance, -provisioned-concurrency or -backlog-per-instance."
  value       = var.create ? { for k, p in aws_appautoscaling_policy.this : k => p.name } : null
}

output "scale_out_from_zero_alarm_names" {
  description = "Name of each asynchronous variant's HasBacklogWithoutCapacity alarm, whose step policy starts one instance from zero (variant name => alarm name)."
  value       = var.create ? { for k, a in aws_cloudwatch_metric_alarm.scale_out_from_zero : k => a.alarm_name } : null
}
