output "sns_topic_arn" {
  description = "ARN of the KMS-encrypted alarm topic (alarms and failed Batch jobs publish to it)."
  value       = try(aws_sns_topic.this[0].arn, null)
}

output "alarm_names" {
  description = "Alarm names by key: \"<variant>/5xx\", \"<variant>/latency-p99\", \"<variant>/invocations-absent\", \"trigger-dlq-not-empty\", \"batch-job-failures\" (the monitoring module names its own, \"monitoring/<check>\")."
  value       = var.create ? local.alarm_names : null
}

output "alarm_arns" {
  description = "Alarm ARNs by the same keys as alarm_names."
  value       = var.create ? local.alarm_arns : null
}

output "batch_failure_rule_arn" {
  description = "ARN of the EventBridge rule matching FAILED jobs on the Batch queue."
  value       = try(aws_cloudwatch_event_rule.this[0].arn, null)
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_arn, null)
}
