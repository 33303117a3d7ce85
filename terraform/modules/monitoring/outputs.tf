output "job_definition" {
  description = "The job for the batch module's job_definitions, under the key \"monitor\" (it names the definition <name>-monitor, the name the schedule submits): `monitor run --window <window>` (the image's entry point is byo) with the BYO_* environment, this module's roles and log group, 2 attempts and timeout_seconds. null with create = false."
  value = local.create ? {
    image                = var.image
    image_repository_arn = var.image_repository_arn
    command              = ["monitor", "run", "--window", var.window]
    # Everything the job needs comes from here: it never reads Terraform at run time.
    environment = {
      BYO_DATA_BUCKET         = var.data_bucket_name
      BYO_ENDPOINT_NAME       = var.endpoint_name
      BYO_DATA_CAPTURE_S3_URI = var.capture_s3_uri
      BYO_DATA_PREFIXES       = jsonencode(local.data_prefixes)
    }
    vcpu               = var.vcpu
    memory_mib         = var.memory_mib
    job_role_arn       = aws_iam_role.job[0].arn
    execution_role_arn = aws_iam_role.execution[0].arn
    log_group_name     = aws_cloudwatch_log_group.this[0].name
    # A run that dies with its host or exits non-zero is retried once; the next scheduled run
    # covers its window again anyway.
    attempts        = 2
    timeout_seconds = var.timeout_seconds
  } : null
}

output "rule_name" {
  description = "Name of the EventBridge rule that submits the job on its schedule (<name>-monitor-schedule)."
  value       = try(aws_cloudwatch_event_rule.this[0].name, null)
}

output "rule_arn" {
  description = "ARN of the schedule rule."
  value       = try(aws_cloudwatch_event_rule.this[0].arn, null)
}

output "alarm_names" {
  description = "Alarm names by key: \"monitoring/drift\", \"monitoring/data-quality\", \"monitoring/model-quality\", \"monitoring/attribution\"."
  value       = local.create ? { for k, a in aws_cloudwatch_metric_alarm.this : "monitoring/${k}" => a.alarm_name } : null
}

output "alarm_arns" {
  description = "Alarm ARNs by the same keys as alarm_names."
  value       = local.create ? { for k, a in aws_cloudwatch_metric_alarm.this : "monitoring/${k}" => a.arn } : null
}

output "dashboard" {
  description = "What the observability module's dashboard shows of the monitoring (its `monitoring` input): the metric namespace, the drift and NDCG thresholds and the alarm ARNs. null with create = false."
  value = local.create ? {
    metric_namespace = local.namespace
    drift_threshold  = var.drift_threshold
    ndcg_threshold   = var.ndcg_threshold
    alarm_arns       = { for k, a in aws_cloudwatch_metric_alarm.this : "monitoring/${k}" => a.arn }
  } : null
}

output "log_group_name" {
  description = "Name of the job's log group (/aws/batch/<name>-monitor); streams are monitor/default/<task id>."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "job_role_arn" {
  description = "ARN of the role `byo monitor run` runs as on Batch (monitored bucket prefixes, endpoint descriptions, BYO/ModelMonitor metrics)."
  value       = try(aws_iam_role.job[0].arn, null)
}

output "execution_role_arn" {
  description = "ARN of the role ECS uses to pull the image and write the job's logs."
  value       = try(aws_iam_role.execution[0].arn, null)
}

output "schedule_role_arn" {
  description = "ARN of the role the schedule rule submits the job as."
  value       = try(aws_iam_role.schedule[0].arn, null)
}
