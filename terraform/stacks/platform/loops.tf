# ---------------------------------------------------------------------------------------------
# The loops (off by default, null): retrain on a schedule, on new data under datasets/ and when
# the monitoring alarms fire; deploy a version when it is approved. `byo loops` shows them.
# ---------------------------------------------------------------------------------------------

variable "loops" {
  description = <<-EOT
    The retraining and deploy loops (terraform/modules/retraining). retrain_schedule: rate(...)
    or cron(...), null for none; retrain_on_new_data: a new object under the bucket's datasets/
    retrains on it; retrain_on_monitoring_alarms: the drift and model-quality alarms going to
    ALARM retrain (needs enable_monitoring), held for alarm_cooldown_seconds afterwards;
    auto_approve_auc_margin: the loop approves a version whose AUC beats the serving version's by
    this (null: a person approves); deploy_on_approval: an approved version is rolled out
    blue/green with a canary of deploy_canary_percent for deploy_canary_wait_seconds, rolled back
    on the variants' 5XX and latency alarms; pipeline_backend "batch" or "sagemaker". null: off.
  EOT
  type = object({
    retrain_schedule             = optional(string)
    retrain_on_new_data          = optional(bool, true)
    retrain_on_monitoring_alarms = optional(bool, true)
    alarm_cooldown_seconds       = optional(number, 3600)
    auc_threshold                = optional(number, 0.9)
    auto_approve_auc_margin      = optional(number)
    deploy_on_approval           = optional(bool, true)
    deploy_canary_percent        = optional(number, 10)
    deploy_canary_wait_seconds   = optional(number, 300)
    pipeline_backend             = optional(string, "batch")
  })
  default = null
}

locals {
  loops_on = var.loops != null
  # The monitoring alarms that mean "the model no longer fits the traffic".
  retrain_alarms = local.loops_on && try(var.loops.retrain_on_monitoring_alarms, false) ? [
    for k, name in coalesce(module.monitoring.alarm_names, {}) : name if contains(["monitoring/drift", "monitoring/model-quality"], k)
  ] : []
  rollback_alarms = [for k, name in module.observability.alarm_names : name if endswith(k, "/5xx") || endswith(k, "/latency-p99")]
}

module "retraining" {
  source = "../../modules/retraining"

  create                       = local.loops_on
  name                         = var.name
  kms_key_arn                  = module.kms.key_arn
  image                        = "${module.ecr.repository_urls["operators"]}:${var.monitor_image_tag}"
  image_repository_arn         = module.ecr.repository_arns["operators"]
  serving_image                = coalesce(var.serving_image, module.endpoint.image)
  job_queue_arn                = module.batch.job_queue_arn
  job_definition_arns          = local.loops_on ? { retrain = module.batch.job_definition_arns["retrain"], deploy = module.batch.job_definition_arns["deploy"] } : null
  job_table_name               = module.storage.job_table_name
  job_table_arn                = module.storage.job_table_arn
  data_bucket_name             = module.storage.bucket_name
  data_bucket_arn              = module.storage.bucket_arn
  data_prefixes                = module.storage.prefixes
  sns_topic_arn                = module.observability.sns_topic_arn
  endpoint_name                = module.endpoint.endpoint_name
  model_package_group_name     = module.registry.model_package_group_name
  sagemaker_execution_role_arn = module.endpoint.execution_role_arn
  retrain_schedule             = try(var.loops.retrain_schedule, null)
  retrain_on_new_data          = try(var.loops.retrain_on_new_data, false)
  retrain_on_alarms            = local.retrain_alarms
  alarm_cooldown_seconds       = try(var.loops.alarm_cooldown_seconds, 3600)
  auc_threshold                = try(var.loops.auc_threshold, 0.9)
  auto_approve_if              = try(var.loops.auto_approve_auc_margin, null) == null ? null : { auc_margin = var.loops.auto_approve_auc_margin }
  deploy_on_approval           = try(var.loops.deploy_on_approval, false)
  deploy_canary_percent        = try(var.loops.deploy_canary_percent, 10)
  deploy_canary_wait_seconds   = try(var.loops.deploy_canary_wait_seconds, 300)
  rollback_alarm_names         = local.rollback_alarms
  pipeline_backend             = try(var.loops.pipeline_backend, "batch")
  tags                         = var.tags
}

output "loops" {
  description = "What `byo loops` reads: the loops' state machine ARNs, trigger rules, job table, alarm cool-down and default training data; null without loops."
  value       = module.retraining.loops
}
