output "trail_name" {
  description = "Name of the trail."
  value       = var.create ? aws_cloudtrail.this[0].name : null
}

output "trail_arn" {
  description = "ARN of the trail."
  value       = var.create ? aws_cloudtrail.this[0].arn : null
}

output "bucket" {
  description = "Bucket of the trail's log files."
  value       = var.create ? aws_s3_bucket.this[0].id : null
}

output "log_files_prefix" {
  description = "Where the log files are: s3://<bucket>/<prefix>/AWSLogs/<account>/CloudTrail/<region>/yyyy/mm/dd/."
  value       = var.create ? "s3://${aws_s3_bucket.this[0].id}/${var.s3_key_prefix}/AWSLogs/${local.account_id}/CloudTrail/" : null
}

output "log_group" {
  description = "CloudWatch Logs group the trail delivers to (`byo audit` reads it)."
  value       = var.create ? aws_cloudwatch_log_group.this[0].name : null
}

output "metric_namespace" {
  description = "CloudWatch namespace of the untrusted-change metrics."
  value       = var.create ? local.namespace : null
}

output "alarm_names" {
  description = "Alarm per kind of change (endpoint, traffic, registry)."
  value       = var.create ? { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name } : null
}

output "filter_patterns" {
  description = "Metric filter pattern per kind of change."
  value       = var.create ? local.patterns : null
}
