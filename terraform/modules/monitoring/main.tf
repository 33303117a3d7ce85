data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  create     = var.create
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Name = var.name }, var.tags)

  job_name       = "${var.name}-monitor"
  rule_name      = "${var.name}-monitor-schedule"
  log_group_name = "/aws/batch/${var.name}-monitor"
  namespace      = "BYO/ModelMonitor"
  dimensions     = { Endpoint = var.endpoint_name }
  # Alarm names start with "<name>-" (the observability module's topic policy lets only those
  # publish) without repeating the prefix when the endpoint already carries it, as the
  # observability module names its alarms.
  alarm_prefix  = var.endpoint_name == var.name || startswith(var.endpoint_name, "${var.name}-") ? var.endpoint_name : "${var.name}-${var.endpoint_name}"
  topic_actions = [var.sns_topic_arn]

  # The storage module's layout, where the caller passes it.
  data_prefixes = merge({ ground_truth = "ground-truth/", monitoring = "monitoring/", models = "models/" }, var.data_prefixes)

  # Known at plan time so the policies are reviewable in a plan.
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  # s3://<bucket>/captures → captures/
  captures_prefix = "${trimsuffix(trimprefix(var.capture_s3_uri, "s3://${var.data_bucket_name}/"), "/")}/"
  read_prefixes = distinct([
    local.captures_prefix, local.data_prefixes.ground_truth, local.data_prefixes.monitoring, local.data_prefixes.models,
  ])

  # SageMaker ARNs carry names in lower case. The job resolves endpoint → config → model: configs
  # and models are named after the endpoint (the operators') or the platform (Terraform's).
  sagemaker_arn_base = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"
  sagemaker_prefixes = distinct([lower(var.endpoint_name), lower(var.name)])
  monitored_sagemaker_arns = concat(
    ["${local.sagemaker_arn_base}:endpoint/${lower(var.endpoint_name)}"],
    [for p in local.sagemaker_prefixes : "${local.sagemaker_arn_base}:endpoint-config/${p}-*"],
    [for p in local.sagemaker_prefixes : "${local.sagemaker_arn_base}:model/${p}-*"],
  )
}

# ---------------------------------------------------------------------------------------------
# Job logs
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "this" {
  count = local.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(local.tags, { Name = local.log_group_name })
}

# ---------------------------------------------------------------------------------------------
# Schedule: EventBridge submits the job to the queue
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_event_rule" "this" {
  count = local.create ? 1 : 0

  name                = local.rule_name
  description         = "${var.name}: runs ${local.job_name} (byo monitor run --window ${var.window}) on ${var.schedule_expression}"
  schedule_expression = var.schedule_expression

  tags = merge(local.tags, { Name = local.rule_name })
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.create ? 1 : 0

  rule      = aws_cloudwatch_event_rule.this[0].name
  target_id = "monitor-job"
  arn       = var.job_queue_arn
  role_arn  = aws_iam_role.schedule[0].arn

  batch_target {
    job_definition = var.job_definition_arn
    job_name       = local.job_name
  }
}

# ---------------------------------------------------------------------------------------------
# Alarms: the job's BYO/ModelMonitor metrics, once per run (hourly periods)
# ---------------------------------------------------------------------------------------------
locals {
  alarms = local.create ? {
    drift = {
      metric_name         = "max_feature_baseline_drift"
      statistic           = "Maximum"
      threshold           = var.drift_threshold
      comparison_operator = "GreaterThanThreshold"
      description         = "The largest per-feature distance of ${var.endpoint_name}'s captured inputs from the baseline (L-infinity between CDFs) exceeded ${var.drift_threshold}: feature_baseline_drift_<feature> says which feature; the report is under s3://${var.data_bucket_name}/${local.data_prefixes.monitoring}."
    }
    data-quality = {
      metric_name         = "data_quality_violations"
      statistic           = "Maximum"
      threshold           = 1
      comparison_operator = "GreaterThanOrEqualToThreshold"
      description         = "The captured inputs of ${var.endpoint_name} violated the data-quality baseline's constraints (types, completeness, ranges); the violations are under s3://${var.data_bucket_name}/${local.data_prefixes.monitoring}."
    }
    model-quality = {
      metric_name         = "model_quality_violations"
      statistic           = "Maximum"
      threshold           = 1
      comparison_operator = "GreaterThanOrEqualToThreshold"
      description         = "Predictions of ${var.endpoint_name} joined with ground truth violated the model-quality baseline (auc, f1, recall, precision, accuracy…); the violations are under s3://${var.data_bucket_name}/${local.data_prefixes.monitoring}."
    }
    attribution = {
      metric_name         = "feature_attribution_ndcg"
      statistic           = "Minimum"
      threshold           = var.ndcg_threshold
      comparison_operator = "LessThanThreshold"
      description         = "The feature-attribution ranking of ${var.endpoint_name} drifted from the baseline: NDCG fell below ${var.ndcg_threshold}; the report is under s3://${var.data_bucket_name}/${local.data_prefixes.monitoring}."
    }
  } : {}
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${local.alarm_prefix}-monitor-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.namespace
  metric_name         = each.value.metric_name
  dimensions          = local.dimensions
  statistic           = each.value.statistic
  period              = 3600 # the job publishes once per run
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison_operator
  treat_missing_data  = "notBreaching" # no run, or no baseline for this check: nothing to judge
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions

  tags = merge(local.tags, { Name = "${local.alarm_prefix}-monitor-${each.key}" })
}
