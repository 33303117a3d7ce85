# ---------------------------------------------------------------------------------------------
# Operations: AWS Batch (the scoring and monitoring jobs), the scheduled model monitoring, alarms,
# notifications and the dashboard.
# ---------------------------------------------------------------------------------------------

variable "batch_image_tag" {
  description = "Tag of the batch-processor image in the platform's ECR repository that Batch jobs run."
  type        = string
  default     = "0.1.0"
}

variable "enable_monitoring" {
  description = "Run model monitoring (`byo monitor run`) on a schedule as an AWS Batch job, with its alarms. Push the operators image (monitor_image_tag) first: each scheduled run without it fails."
  type        = bool
  default     = true
}

variable "monitor_image_tag" {
  description = "Tag of the operators image (operators/Dockerfile) in the platform's ECR repository that the monitoring job runs."
  type        = string
  default     = "0.1.0"
}

variable "monitoring_schedule_expression" {
  description = "EventBridge schedule of the monitoring job: rate(...) or cron(...)."
  type        = string
  default     = "rate(1 hour)"
}

variable "monitoring_window" {
  description = "Captured traffic each monitoring run checks, as `byo monitor run --window` takes it (e.g. 1h); match it to the schedule."
  type        = string
  default     = "1h"
}

variable "monitoring_drift_threshold" {
  description = "Alarm when the largest per-feature drift from the baseline (L-infinity distance between CDFs, 0-1) exceeds this."
  type        = number
  default     = 0.1
}

variable "monitoring_ndcg_threshold" {
  description = "Alarm when the feature-attribution NDCG against the baseline (0-1; lower = more drift) falls below this."
  type        = number
  default     = 0.9
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the platform's alarm topic."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------------------------
# Batch scoring: S3 input/*.csv → trigger Lambda → AWS Batch job → output/ + job table
# ---------------------------------------------------------------------------------------------
module "batch" {
  source = "../../modules/batch"

  name               = var.name
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.batch_security_group_id]
  kms_key_arn        = module.kms.key_arn
  data_bucket_arn    = module.storage.bucket_arn
  data_prefixes      = module.storage.prefixes
  job_table_arn      = module.storage.job_table_arn
  endpoint_arns      = [module.endpoint.endpoint_arn]

  job_definitions = merge(
    {
      scoring = {
        image                = "${module.ecr.repository_urls["batch-processor"]}:${var.batch_image_tag}"
        image_repository_arn = module.ecr.repository_arns["batch-processor"]
        # The trigger submits each object's coordinates as job parameters. The image's ENTRYPOINT is
        # `python -m batch_processor.job`; the command only adds its arguments.
        command = [
          "--bucket", "Ref::bucket", "--key", "Ref::key", "--etag", "Ref::etag", "--version-id", "Ref::version",
          "--shards", "Ref::shards",
        ]
        environment = {
          BYO_DATA_BUCKET   = module.storage.bucket_name
          BYO_JOB_TABLE     = module.storage.job_table_name
          BYO_ENDPOINT_NAME = module.endpoint.endpoint_name
          BYO_DATA_PREFIXES = jsonencode(module.storage.prefixes)
        }
      }
    },
    # The monitoring module's job (byo monitor run); its key names it <name>-monitor.
    { for key, job in { monitor = module.monitoring.job_definition } : key => job if var.enable_monitoring },
    # The loops' jobs (byo loops retrain / deploy); their keys name them <name>-retrain, <name>-deploy.
    coalesce(module.retraining.job_definitions, {}),
  )
  tags = var.tags
}

# ---------------------------------------------------------------------------------------------
# Scheduled model monitoring: `byo monitor run` on the Batch queue, its roles and alarms
# ---------------------------------------------------------------------------------------------
module "monitoring" {
  source = "../../modules/monitoring"

  create               = var.enable_monitoring
  name                 = var.name
  kms_key_arn          = module.kms.key_arn
  endpoint_name        = module.endpoint.endpoint_name
  image                = "${module.ecr.repository_urls["operators"]}:${var.monitor_image_tag}"
  image_repository_arn = module.ecr.repository_arns["operators"]
  job_queue_arn        = module.batch.job_queue_arn
  job_definition_arn   = try(module.batch.job_definition_arns["monitor"], null)
  sns_topic_arn        = module.observability.sns_topic_arn
  data_bucket_name     = module.storage.bucket_name
  data_bucket_arn      = module.storage.bucket_arn
  data_prefixes        = module.storage.prefixes
  capture_s3_uri       = local.capture_s3_uri
  schedule_expression  = var.monitoring_schedule_expression
  window               = var.monitoring_window
  drift_threshold      = var.monitoring_drift_threshold
  ndcg_threshold       = var.monitoring_ndcg_threshold
  tags                 = var.tags
}

# ---------------------------------------------------------------------------------------------
# Alarms, notifications and the dashboard
# ---------------------------------------------------------------------------------------------
module "observability" {
  source = "../../modules/observability"

  name                = var.name
  kms_key_arn         = module.kms.key_arn
  alarm_emails        = var.alarm_emails
  endpoint_name       = module.endpoint.endpoint_name
  variant_names       = module.endpoint.variant_names
  batch_job_queue_arn = module.batch.job_queue_arn
  trigger_dlq_name    = module.trigger.dlq_name
  monitoring          = module.monitoring.dashboard
  tags                = var.tags
}

output "job_queue" {
  description = "AWS Batch job queue ARN of the scoring jobs."
  value       = module.batch.job_queue_arn
}

output "job_definition" {
  description = "AWS Batch job definition ARN of the scoring job."
  value       = module.batch.job_definition_arns["scoring"]
}

output "alarm_topic_arn" {
  description = "SNS topic the platform's alarms notify."
  value       = module.observability.sns_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the platform."
  value       = module.observability.dashboard_name
}

output "alarm_names" {
  description = "CloudWatch alarm names by purpose (<variant>/5xx, <variant>/latency-p99, …, monitoring/drift, monitoring/data-quality, monitoring/model-quality, monitoring/attribution); byo deploy --blue-green rolls back on the 5XX and latency ones."
  value       = merge(module.observability.alarm_names, module.monitoring.alarm_names)
}

output "monitor_job_definition" {
  description = "AWS Batch job definition ARN of the model-monitoring job (byo monitor run); null with enable_monitoring = false."
  value       = try(module.batch.job_definition_arns["monitor"], null)
}

output "monitoring_rule" {
  description = "Name of the EventBridge rule that submits the model-monitoring job on its schedule; null with enable_monitoring = false."
  value       = module.monitoring.rule_name
}
