output "sns_topic_arn" {
  description = "ARN of the KMS-encrypted alarm topic (alarms and failed Batch jobs publish to it)."
  value       = try(aws_sns_topic.this[0].arn, null)
}

output "alarm_names" {
  description = "Alarm names by key: \"<variant>/5xx\", \"<variant>/latency-p99\", \"<variant>/invocations-absent\", \"trigger-dlq-not-empty\", \"batch-job-failures\" and, with monitoring, \"monitoring/drift\", \"monitoring/data-quality\", \"monitoring/model-quality\", \"monitoring/attribution\"."
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

output "monitor_job_definition_arn" {
  description = "ARN of the monitoring job definition's current revision (…:job-definition/<name>-monitor:<revision>); null without monitoring."
  value       = try(aws_batch_job_definition.monitor[0].arn, null)
}

output "monitor_job_definition_name" {
  description = "Name of the monitoring job definition (<name>-monitor); submitting by name runs the latest active revision. null without monitoring."
  value       = try(aws_batch_job_definition.monitor[0].name, null)
}

output "monitor_job_role_arn" {
  description = "ARN of the role `byo monitor run` runs as on Batch (monitored bucket prefixes, endpoint descriptions, BYO/ModelMonitor metrics); null without monitoring."
  value       = try(aws_iam_role.monitor_job[0].arn, null)
}

output "monitor_log_group_name" {
  description = "Name of the monitoring job's log group (/aws/batch/<name>-monitor); streams are monitor/default/<task id>. null without monitoring."
  value       = try(aws_cloudwatch_log_group.monitor[0].name, null)
}

output "monitoring_rule_name" {
  description = "Name of the EventBridge rule that submits the monitoring job on its schedule (<name>-monitor-schedule); null without monitoring."
  value       = try(aws_cloudwatch_event_rule.monitor[0].name, null)
}
