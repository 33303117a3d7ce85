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

resource "aws_sns_topic_policy" "this" {
  count = local.create ? 1 : 0

  arn = aws_sns_topic.this[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountManagesTopic"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action = [
          "SNS:GetTopicAttributes",
          "SNS:SetTopicAttributes",
          "SNS:AddPermission",
          "SNS:RemovePermission",
          "SNS:DeleteTopic",
          "SNS:Subscribe",
          "SNS:ListSubscriptionsByTopic",
          "SNS:Publish",
        ]
        Resource = aws_sns_topic.this[0].arn
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "SNS:Publish"
        Resource  = aws_sns_topic.this[0].arn
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = local.alarm_arn_pattern }
        }
      },
      {
        Sid       = "BatchFailureRulePublishes"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "SNS:Publish"
        Resource  = aws_sns_topic.this[0].arn
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnEquals    = { "aws:SourceArn" = local.rule_arn }
        }
      },
    ]
  })
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
# Model monitoring (optional): what the scheduled `byo monitor run` job reads, writes and runs as
# ---------------------------------------------------------------------------------------------
locals {
  monitoring        = local.create ? var.monitoring : null
  create_monitoring = local.monitoring != null

  monitor_name           = "${var.name}-monitor"
  monitor_rule_name      = "${var.name}-monitor-schedule"
  monitor_log_group_name = "/aws/batch/${var.name}-monitor"
  monitor_namespace      = "BYO/ModelMonitor"
  monitor_dimensions     = { Endpoint = var.endpoint_name }

  # Known at plan time, like alarm_arn_pattern, so the policies are reviewable in a plan.
  monitor_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.monitor_log_group_name}"
  data_bucket_arn       = local.create_monitoring ? "arn:${local.partition}:s3:::${local.monitoring.data_bucket_name}" : null
  # s3://<bucket>/captures → captures/
  captures_prefix = local.create_monitoring ? "${trimsuffix(trimprefix(local.monitoring.capture_s3_uri, "s3://${local.monitoring.data_bucket_name}/"), "/")}/" : null
  monitor_read_prefixes = local.create_monitoring ? distinct([
    local.captures_prefix, local.monitoring.ground_truth_prefix, local.monitoring.monitoring_prefix, local.monitoring.models_prefix,
  ]) : []

  # SageMaker ARNs carry names in lower case. The job resolves endpoint → config → model: configs
  # and models are named after the endpoint (the operators') or the platform (Terraform's).
  sagemaker_arn_base = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"
  sagemaker_prefixes = distinct([lower(var.endpoint_name), lower(var.name)])
  monitored_sagemaker_arns = concat(
    ["${local.sagemaker_arn_base}:endpoint/${lower(var.endpoint_name)}"],
    [for p in local.sagemaker_prefixes : "${local.sagemaker_arn_base}:endpoint-config/${p}-*"],
    [for p in local.sagemaker_prefixes : "${local.sagemaker_arn_base}:model/${p}-*"],
  )

  # <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag][@digest] → repository ARN,
  # as in the batch module. Any other image (public registries) needs no ECR permissions.
  monitor_ecr_image = local.create_monitoring ? try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^:@]+)", local.monitoring.image), null) : null
  monitor_image_repository_arn = local.create_monitoring ? (
    local.monitoring.image_repository_arn != null ? local.monitoring.image_repository_arn
    : try("arn:${local.partition}:ecr:${local.monitor_ecr_image[1]}:${local.monitor_ecr_image[0]}:repository/${local.monitor_ecr_image[2]}", null)
  ) : null

  # The image's entry point is `byo` (operators/Dockerfile): the command is its arguments.
  monitor_command = local.create_monitoring ? ["monitor", "run", "--window", local.monitoring.window] : null
  # Everything the job needs comes from here: it never reads Terraform at run time.
  monitor_environment = local.create_monitoring ? {
    BYO_DATA_BUCKET         = local.monitoring.data_bucket_name
    BYO_ENDPOINT_NAME       = var.endpoint_name
    BYO_DATA_CAPTURE_S3_URI = local.monitoring.capture_s3_uri
  } : {}
}

resource "aws_cloudwatch_log_group" "monitor" {
  count = local.create_monitoring ? 1 : 0

  name              = local.monitor_log_group_name
  retention_in_days = local.monitoring.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(local.tags, { Name = local.monitor_log_group_name })
}

resource "aws_iam_role" "monitor_execution" {
  count = local.create_monitoring ? 1 : 0

  name        = "${local.monitor_name}-execution"
  description = "Starts the ${local.monitor_name} job's container: pulls its image and writes its logs."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = "${local.monitor_name}-execution" })
}

resource "aws_iam_role_policy" "monitor_execution" {
  count = local.create_monitoring ? 1 : 0

  name = "pull-image-write-logs"
  role = aws_iam_role.monitor_execution[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      local.monitor_image_repository_arn == null ? [] : [
        {
          # ecr:GetAuthorizationToken has no resource type: AWS requires Resource "*".
          Sid      = "AuthenticateToEcr"
          Effect   = "Allow"
          Action   = ["ecr:GetAuthorizationToken"]
          Resource = ["*"]
        },
        {
          Sid      = "PullMonitorImage"
          Effect   = "Allow"
          Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
          Resource = [local.monitor_image_repository_arn]
        },
      ],
      [
        {
          Sid      = "WriteMonitorLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${local.monitor_log_group_arn}:*"]
        },
      ],
    )
  })
}

resource "aws_iam_role" "monitor_job" {
  count = local.create_monitoring ? 1 : 0

  name        = "${local.monitor_name}-job"
  description = "Runs the ${local.monitor_name} job: reads captures, ground truth, baselines and models, writes results, publishes metrics."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = "${local.monitor_name}-job" })
}

resource "aws_iam_role_policy" "monitor_job" {
  count = local.create_monitoring ? 1 : 0

  name = "monitor-endpoint"
  role = aws_iam_role.monitor_job[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadCapturesGroundTruthBaselinesAndModels"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [for p in local.monitor_read_prefixes : "${local.data_bucket_arn}/${p}*"]
      },
      {
        Sid      = "WriteMonitoringResults"
        Effect   = "Allow"
        Action   = ["s3:AbortMultipartUpload", "s3:PutObject"]
        Resource = ["${local.data_bucket_arn}/${local.monitoring.monitoring_prefix}*"]
      },
      {
        Sid       = "ListMonitoredPrefixes"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [local.data_bucket_arn]
        Condition = { StringLike = { "s3:prefix" = [for p in local.monitor_read_prefixes : "${p}*"] } }
      },
      {
        # The bucket's objects are encrypted with the platform key; only through S3.
        Sid       = "UsePlatformKeyForBucket"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = [var.kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = ["s3.${local.region}.amazonaws.com"] } }
      },
      {
        Sid      = "DescribeEndpointConfigsAndModels"
        Effect   = "Allow"
        Action   = ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"]
        Resource = local.monitored_sagemaker_arns
      },
      {
        # cloudwatch:PutMetricData has no resource type: AWS requires Resource "*"; the namespace
        # condition keeps the job to its own metrics.
        Sid       = "PublishMonitoringMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = ["*"]
        Condition = { StringEquals = { "cloudwatch:namespace" = local.monitor_namespace } }
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# Model monitoring job definition: `byo monitor run --window <window>` on Fargate
# ---------------------------------------------------------------------------------------------
resource "aws_batch_job_definition" "monitor" {
  count = local.create_monitoring ? 1 : 0

  name                  = local.monitor_name
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  propagate_tags        = true
  container_properties = jsonencode({
    image   = local.monitoring.image
    command = local.monitor_command
    resourceRequirements = [
      { type = "VCPU", value = tostring(local.monitoring.vcpu) },
      { type = "MEMORY", value = tostring(local.monitoring.memory_mib) },
    ]
    # Sorted by name, as the provider orders them when comparing with AWS: re-plans stay clean.
    environment      = [for k in sort(keys(local.monitor_environment)) : { name = k, value = local.monitor_environment[k] }]
    executionRoleArn = aws_iam_role.monitor_execution[0].arn
    jobRoleArn       = aws_iam_role.monitor_job[0].arn
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.monitor_log_group_name
        awslogs-region        = local.region
        awslogs-stream-prefix = "monitor"
      }
    }
    fargatePlatformConfiguration = { platformVersion = "LATEST" }
    # Subnets and security groups are the queue's compute environment's; private, no public IP.
    networkConfiguration = { assignPublicIp = "DISABLED" }
  })

  # A run that dies with its host or exits non-zero is retried once; the next scheduled run
  # covers its window again anyway. Other failures (e.g. the image cannot be pulled) end it.
  retry_strategy {
    attempts = 2

    evaluate_on_exit {
      on_status_reason = "Host EC2*"
      action           = "RETRY"
    }

    evaluate_on_exit {
      on_exit_code = "*"
      action       = "RETRY"
    }

    evaluate_on_exit {
      on_reason = "*"
      action    = "EXIT"
    }
  }

  timeout {
    attempt_duration_seconds = local.monitoring.timeout_seconds
  }

  tags = merge(local.tags, { Name = local.monitor_name })

  depends_on = [aws_cloudwatch_log_group.monitor]
}

# ---------------------------------------------------------------------------------------------
# Model monitoring schedule: EventBridge submits the job to the queue
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_event_rule" "monitor" {
  count = local.create_monitoring ? 1 : 0

  name                = local.monitor_rule_name
  description         = "${var.name}: runs ${local.monitor_name} (byo monitor run --window ${local.monitoring.window}) on ${local.monitoring.schedule_expression}"
  schedule_expression = local.monitoring.schedule_expression

  tags = merge(local.tags, { Name = local.monitor_rule_name })
}

resource "aws_iam_role" "monitor_schedule" {
  count = local.create_monitoring ? 1 : 0

  name        = local.monitor_rule_name
  description = "Lets the ${local.monitor_rule_name} rule submit ${local.monitor_name} jobs, and nothing else."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = local.monitor_rule_name })
}

resource "aws_iam_role_policy" "monitor_schedule" {
  count = local.create_monitoring ? 1 : 0

  name = "submit-monitor-job"
  role = aws_iam_role.monitor_schedule[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # SubmitJob is authorised against the definition as named in the call and as its
      # unrevisioned "…:job-definition/<name>" form, so both are allowed (as in the trigger).
      Sid    = "SubmitMonitorJobs"
      Effect = "Allow"
      Action = ["batch:SubmitJob"]
      Resource = [
        local.monitoring.job_queue_arn,
        aws_batch_job_definition.monitor[0].arn,
        replace(aws_batch_job_definition.monitor[0].arn, "/:[0-9]+$/", ""),
      ]
    }]
  })
}

resource "aws_cloudwatch_event_target" "monitor" {
  count = local.create_monitoring ? 1 : 0

  rule      = aws_cloudwatch_event_rule.monitor[0].name
  target_id = "monitor-job"
  arn       = local.monitoring.job_queue_arn
  role_arn  = aws_iam_role.monitor_schedule[0].arn

  batch_target {
    job_definition = aws_batch_job_definition.monitor[0].arn
    job_name       = local.monitor_name
  }
}

# ---------------------------------------------------------------------------------------------
# Model monitoring alarms: the job's BYO/ModelMonitor metrics, once per run (hourly periods)
# ---------------------------------------------------------------------------------------------
locals {
  monitor_alarms = local.create_monitoring ? {
    drift = {
      metric_name         = "max_feature_baseline_drift"
      statistic           = "Maximum"
      threshold           = local.monitoring.drift_threshold
      comparison_operator = "GreaterThanThreshold"
      description         = "The largest per-feature distance of ${var.endpoint_name}'s captured inputs from the baseline (L-infinity between CDFs) exceeded ${local.monitoring.drift_threshold}: feature_baseline_drift_<feature> says which feature; the report is under s3://${local.monitoring.data_bucket_name}/${local.monitoring.monitoring_prefix}."
    }
    data-quality = {
      metric_name         = "data_quality_violations"
      statistic           = "Maximum"
      threshold           = 1
      comparison_operator = "GreaterThanOrEqualToThreshold"
      description         = "The captured inputs of ${var.endpoint_name} violated the data-quality baseline's constraints (types, completeness, ranges); the violations are under s3://${local.monitoring.data_bucket_name}/${local.monitoring.monitoring_prefix}."
    }
    model-quality = {
      metric_name         = "model_quality_violations"
      statistic           = "Maximum"
      threshold           = 1
      comparison_operator = "GreaterThanOrEqualToThreshold"
      description         = "Predictions of ${var.endpoint_name} joined with ground truth violated the model-quality baseline (auc, f1, recall, precision, accuracy…); the violations are under s3://${local.monitoring.data_bucket_name}/${local.monitoring.monitoring_prefix}."
    }
    attribution = {
      metric_name         = "feature_attribution_ndcg"
      statistic           = "Minimum"
      threshold           = local.monitoring.ndcg_threshold
      comparison_operator = "LessThanThreshold"
      description         = "The feature-attribution ranking of ${var.endpoint_name} drifted from the baseline: NDCG fell below ${local.monitoring.ndcg_threshold}; the report is under s3://${local.monitoring.data_bucket_name}/${local.monitoring.monitoring_prefix}."
    }
  } : {}
}

resource "aws_cloudwatch_metric_alarm" "monitoring" {
  for_each = local.monitor_alarms

  alarm_name          = "${local.alarm_prefix}-monitor-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.monitor_namespace
  metric_name         = each.value.metric_name
  dimensions          = local.monitor_dimensions
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

# ---------------------------------------------------------------------------------------------
# Dashboard: traffic, latency, errors and utilisation per variant, DLQ depth, alarm states,
# model monitoring (when enabled)
# ---------------------------------------------------------------------------------------------
locals {
  alarms = merge(
    { for v, a in aws_cloudwatch_metric_alarm.variant_5xx : "${v}/5xx" => a },
    { for v, a in aws_cloudwatch_metric_alarm.variant_latency_p99 : "${v}/latency-p99" => a },
    { for v, a in aws_cloudwatch_metric_alarm.variant_invocations_absent : "${v}/invocations-absent" => a },
    { for a in aws_cloudwatch_metric_alarm.dlq_not_empty : "trigger-dlq-not-empty" => a },
    { for a in aws_cloudwatch_metric_alarm.batch_job_failures : "batch-job-failures" => a },
    { for k, a in aws_cloudwatch_metric_alarm.monitoring : "monitoring/${k}" => a },
  )
  alarm_names = { for k, a in local.alarms : k => a.alarm_name }
  alarm_arns  = { for k, a in local.alarms : k => a.arn }

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
        alarms = values(local.alarm_arns)
      }
    },
  ]

  # One element with monitoring, none without: a for expression keeps the two widgets' types.
  monitoring_enabled = local.create_monitoring ? [local.monitoring] : []
  monitoring_widgets = flatten([for m in local.monitoring_enabled : [
    {
      type = "metric", x = 0, y = 18, width = 12, height = 6
      properties = {
        title  = "Model monitoring: max feature drift and attribution NDCG"
        region = local.region
        view   = "timeSeries"
        period = 3600
        yAxis  = { left = { min = 0, max = 1 } }
        metrics = [
          [local.monitor_namespace, "max_feature_baseline_drift", "Endpoint", var.endpoint_name, { stat = "Maximum", label = "max feature drift" }],
          [local.monitor_namespace, "feature_attribution_ndcg", "Endpoint", var.endpoint_name, { stat = "Minimum", label = "attribution NDCG" }],
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
          [local.monitor_namespace, metric, "Endpoint", var.endpoint_name, { label = replace(metric, "_", " ") }]
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
