data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  create     = var.create
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Name = var.name }, var.tags)

  topic_name = "${var.name}-alarms"
  rule_name  = "${var.name}-batch-job-failed"
  # Every alarm name starts with "<name>-" (the topic policy relies on it) without repeating the
  # prefix when the endpoint already carries it ("byo-scoring", not "byo-byo-scoring"; an
  # endpoint named just "byo" gives "byo-…").
  alarm_prefix    = var.endpoint_name == var.name || startswith(var.endpoint_name, "${var.name}-") ? var.endpoint_name : "${var.name}-${var.endpoint_name}"
  dashboard_name  = local.alarm_prefix
  topic_actions   = local.create ? [aws_sns_topic.this[0].arn] : []
  variants        = local.create ? { for v in var.variant_names : v => v } : {}
  absent_variants = var.enable_invocations_absent_alarm ? local.variants : {}

  # SageMaker reports ModelLatency in microseconds.
  latency_p99_threshold_us   = var.latency_p99_threshold_ms * 1000
  invocations_absent_periods = floor(var.invocations_absent_minutes * 60 / var.period_seconds)

  # Known at plan time so the topic policy can name them.
  alarm_arn_pattern = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name}-*"
  rule_arn          = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${local.rule_name}"
}

# ---------------------------------------------------------------------------------------------
# Alarm topic (KMS-encrypted): alarms and the Batch failure rule publish, people subscribe
# ---------------------------------------------------------------------------------------------
resource "aws_sns_topic" "this" {
  count = local.create ? 1 : 0

  name              = local.topic_name
  kms_master_key_id = var.kms_key_arn

  tags = merge(local.tags, { Name = local.topic_name })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.create ? { for e in var.alarm_emails : e => e } : {}

  topic_arn = aws_sns_topic.this[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# ---------------------------------------------------------------------------------------------
# Endpoint alarms, per production variant: 5XX errors, p99 latency, absent invocations
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "variant_5xx" {
  for_each = local.variants

  alarm_name          = "${local.alarm_prefix}-${each.key}-5xx"
  alarm_description   = "Variant ${each.key} of ${var.endpoint_name} returned >= ${var.error_5xx_threshold} 5XX errors per ${var.period_seconds}s for ${var.evaluation_periods} periods."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  dimensions          = { EndpointName = var.endpoint_name, VariantName = each.key }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.error_5xx_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching" # no traffic, no errors
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions

  tags = merge(local.tags, { Name = "${local.alarm_prefix}-${each.key}-5xx" })
}

resource "aws_cloudwatch_metric_alarm" "variant_latency_p99" {
  for_each = local.variants

  alarm_name          = "${local.alarm_prefix}-${each.key}-latency-p99"
  alarm_description   = "Variant ${each.key} of ${var.endpoint_name}: p99 model latency above ${var.latency_p99_threshold_ms} ms for ${var.evaluation_periods} periods."
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency"
  dimensions          = { EndpointName = var.endpoint_name, VariantName = each.key }
  extended_statistic  = "p99"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = local.latency_p99_threshold_us
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching" # no traffic says nothing about latency
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions

  tags = merge(local.tags, { Name = "${local.alarm_prefix}-${each.key}-latency-p99" })
}

resource "aws_cloudwatch_metric_alarm" "variant_invocations_absent" {
  for_each = local.absent_variants

  alarm_name          = "${local.alarm_prefix}-${each.key}-invocations-absent"
  alarm_description   = "Variant ${each.key} of ${var.endpoint_name} received no invocations for ${var.invocations_absent_minutes} minutes."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocations"
  dimensions          = { EndpointName = var.endpoint_name, VariantName = each.key }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = local.invocations_absent_periods
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching" # SageMaker publishes no datapoint when nothing is invoked
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions

  tags = merge(local.tags, { Name = "${local.alarm_prefix}-${each.key}-invocations-absent" })
}

# ---------------------------------------------------------------------------------------------
# Trigger DLQ alarm: any S3 event the trigger failed to turn into a job
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  count = local.create ? 1 : 0

  alarm_name          = "${var.name}-trigger-dlq-not-empty"
  alarm_description   = "The trigger's dead-letter queue ${var.trigger_dlq_name} holds failed upload events: inspect and redrive them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.trigger_dlq_name }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions

  tags = merge(local.tags, { Name = "${var.name}-trigger-dlq-not-empty" })
}

# ---------------------------------------------------------------------------------------------
# Batch job failures: each FAILED job on the queue is published, and counted by an alarm
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_event_rule" "this" {
  count = local.create ? 1 : 0

  name        = local.rule_name
  description = "${var.name}: scoring jobs that FAILED on ${var.batch_job_queue_arn}"
  event_pattern = jsonencode({
    source        = ["aws.batch"]
    "detail-type" = ["Batch Job State Change"]
    detail = {
      status   = ["FAILED"]
      jobQueue = [var.batch_job_queue_arn]
    }
  })

  tags = merge(local.tags, { Name = local.rule_name })
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.create ? 1 : 0

  rule      = aws_cloudwatch_event_rule.this[0].name
  target_id = "alarm-topic"
  arn       = aws_sns_topic.this[0].arn
}

resource "aws_cloudwatch_metric_alarm" "batch_job_failures" {
  count = local.create ? 1 : 0

  alarm_name          = "${var.name}-batch-job-failures"
  alarm_description   = "Scoring jobs failed on the Batch queue (rule ${local.rule_name}); the failed job events are on the topic."
  namespace           = "AWS/Events"
  metric_name         = "TriggeredRules"
  dimensions          = { RuleName = local.rule_name }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching" # the rule only reports when it matches
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions

  tags = merge(local.tags, { Name = "${var.name}-batch-job-failures" })
}

# ---------------------------------------------------------------------------------------------
# Dashboard: traffic, latency, errors and utilisation per variant, DLQ depth, alarm states,
# model monitoring (when given)
# ---------------------------------------------------------------------------------------------
locals {
  alarms = merge(
    { for v, a in aws_cloudwatch_metric_alarm.variant_5xx : "${v}/5xx" => a },
    { for v, a in aws_cloudwatch_metric_alarm.variant_latency_p99 : "${v}/latency-p99" => a },
    { for v, a in aws_cloudwatch_metric_alarm.variant_invocations_absent : "${v}/invocations-absent" => a },
    { for a in aws_cloudwatch_metric_alarm.dlq_not_empty : "trigger-dlq-not-empty" => a },
    { for a in aws_cloudwatch_metric_alarm.batch_job_failures : "batch-job-failures" => a },
  )
  alarm_names = { for k, a in local.alarms : k => a.alarm_name }
  alarm_arns  = { for k, a in local.alarms : k => a.arn }
  # The alarm widget shows the monitoring module's alarms too.
  dashboard_alarm_arns = merge(local.alarm_arns, try(var.monitoring.alarm_arns, {}))

  variant_dims = { for v in var.variant_names : v => ["EndpointName", var.endpoint_name, "VariantName", v] }

  dashboard_widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title   = "Invocations per variant"
        region  = local.region
        view    = "timeSeries"
        stat    = "Sum"
        period  = var.period_seconds
        metrics = [for v, d in local.variant_dims : concat(["AWS/SageMaker", "Invocations"], d, [{ label = v }])]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title  = "Model latency p50 / p99 (microseconds)"
        region = local.region
        view   = "timeSeries"
        period = var.period_seconds
        metrics = [for p in setproduct(var.variant_names, ["p50", "p99"]) :
          concat(["AWS/SageMaker", "ModelLatency"], local.variant_dims[p[0]], [{ stat = p[1], label = "${p[0]} ${p[1]}" }])
        ]
        annotations = { horizontal = [{ label = "p99 alarm", value = local.latency_p99_threshold_us }] }
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title  = "4XX / 5XX errors per variant"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = var.period_seconds
        metrics = [for p in setproduct(var.variant_names, ["4XX", "5XX"]) :
          concat(["AWS/SageMaker", "Invocation${p[1]}Errors"], local.variant_dims[p[0]], [{ label = "${p[0]} ${p[1]}" }])
        ]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title  = "CPU / memory utilisation per variant (%)"
        region = local.region
        view   = "timeSeries"
        stat   = "Average"
        period = var.period_seconds
        metrics = [for p in setproduct(var.variant_names, ["CPU", "Memory"]) :
          concat(["/aws/sagemaker/Endpoints", "${p[1]}Utilization"], local.variant_dims[p[0]], [{ label = "${p[0]} ${lower(p[1])}" }])
        ]
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title  = "Trigger DLQ depth and Batch job failures"
        region = local.region
        view   = "timeSeries"
        period = var.period_seconds
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.trigger_dlq_name, { stat = "Maximum", label = "DLQ messages" }],
          ["AWS/Events", "TriggeredRules", "RuleName", local.rule_name, { stat = "Sum", label = "failed jobs" }],
        ]
      }
    },
    {
      type = "alarm", x = 12, y = 12, width = 12, height = 6
      properties = {
        title  = "Alarm status"
        alarms = values(local.dashboard_alarm_arns)
      }
    },
  ]

  # One element with monitoring, none without: a for expression keeps the two widgets' types.
  monitoring_shown = var.monitoring == null ? [] : [var.monitoring]
  monitoring_widgets = flatten([for m in local.monitoring_shown : [
    {
      type = "metric", x = 0, y = 18, width = 12, height = 6
      properties = {
        title  = "Model monitoring: max feature drift and attribution NDCG"
        region = local.region
        view   = "timeSeries"
        period = 3600
        yAxis  = { left = { min = 0, max = 1 } }
        metrics = [
          [m.metric_namespace, "max_feature_baseline_drift", "Endpoint", var.endpoint_name, { stat = "Maximum", label = "max feature drift" }],
          [m.metric_namespace, "feature_attribution_ndcg", "Endpoint", var.endpoint_name, { stat = "Minimum", label = "attribution NDCG" }],
        ]
        annotations = { horizontal = [
          { label = "drift alarm", value = m.drift_threshold },
          { label = "NDCG alarm", value = m.ndcg_threshold },
        ] }
      }
    },
    {
      type = "metric", x = 12, y = 18, width = 12, height = 6
      properties = {
        title  = "Model monitoring: violations per run"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = 3600
        metrics = [for metric in ["data_quality_violations", "model_quality_violations", "attribution_drift_violations"] :
          [m.metric_namespace, metric, "Endpoint", var.endpoint_name, { label = replace(metric, "_", " ") }]
        ]
      }
    },
  ]])
}

resource "aws_cloudwatch_dashboard" "this" {
  count = local.create ? 1 : 0

  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({ widgets = concat(local.dashboard_widgets, local.monitoring_widgets) })
}
