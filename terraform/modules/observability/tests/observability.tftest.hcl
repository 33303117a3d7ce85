mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_sns_topic" {
    override_during = plan
    defaults        = { arn = "arn:aws:sns:eu-west-1:111122223333:byo-alarms" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    override_during = plan
    defaults        = { arn = "arn:aws:events:eu-west-1:111122223333:rule/byo-batch-job-failed" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    override_during = plan
    defaults        = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:byo-mocked" }
  }
  mock_resource "aws_cloudwatch_dashboard" {
    override_during = plan
    defaults        = { dashboard_arn = "arn:aws:cloudwatch::111122223333:dashboard/byo-scoring" }
  }
}

variables {
  name                = "byo"
  kms_key_arn         = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  endpoint_name       = "scoring"
  variant_names       = ["blue", "green"]
  batch_job_queue_arn = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
  trigger_dlq_name    = "byo-trigger-dlq"
  tags                = { team = "ml" }
}

run "each_variant_gets_5xx_latency_and_absent_alarms" {
  command = plan

  assert {
    condition = (length(aws_cloudwatch_metric_alarm.variant_5xx) == 2 && length(aws_cloudwatch_metric_alarm.variant_latency_p99) == 2
    && length(aws_cloudwatch_metric_alarm.variant_invocations_absent) == 2)
    error_message = "three alarms per variant"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_5xx["green"].dimensions == tomap({ EndpointName = "scoring", VariantName = "green" })
    error_message = "5XX alarm is scoped to endpoint and variant"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.variant_5xx["blue"].namespace == "AWS/SageMaker"
      && aws_cloudwatch_metric_alarm.variant_5xx["blue"].metric_name == "Invocation5XXErrors"
      && aws_cloudwatch_metric_alarm.variant_5xx["blue"].statistic == "Sum"
      && aws_cloudwatch_metric_alarm.variant_5xx["blue"].threshold == 5
    && aws_cloudwatch_metric_alarm.variant_5xx["blue"].evaluation_periods == 3)
    error_message = "5XX alarm sums Invocation5XXErrors against the default threshold over 3 periods"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_5xx["blue"].alarm_name == "byo-scoring-blue-5xx"
    error_message = "alarm names carry name, endpoint and variant"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.variant_latency_p99["blue"].metric_name == "ModelLatency"
      && aws_cloudwatch_metric_alarm.variant_latency_p99["blue"].extended_statistic == "p99"
    && aws_cloudwatch_metric_alarm.variant_latency_p99["blue"].statistic == null)
    error_message = "latency alarm uses the p99 extended statistic of ModelLatency"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_latency_p99["blue"].threshold == 500000
    error_message = "500 ms becomes 500000 microseconds"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_latency_p99["green"].dimensions == tomap({ EndpointName = "scoring", VariantName = "green" })
    error_message = "latency alarm is scoped to endpoint and variant"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.variant_invocations_absent["blue"].metric_name == "Invocations"
      && aws_cloudwatch_metric_alarm.variant_invocations_absent["blue"].comparison_operator == "LessThanThreshold"
      && aws_cloudwatch_metric_alarm.variant_invocations_absent["blue"].threshold == 1
      && aws_cloudwatch_metric_alarm.variant_invocations_absent["blue"].treat_missing_data == "breaching"
    && aws_cloudwatch_metric_alarm.variant_invocations_absent["blue"].evaluation_periods == 3)
    error_message = "absent alarm fires on fewer than 1 invocation (or no data) for 15 minutes = three 5-minute periods"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_5xx["blue"].treat_missing_data == "notBreaching" && aws_cloudwatch_metric_alarm.variant_latency_p99["blue"].treat_missing_data == "notBreaching"
    error_message = "no traffic does not raise 5XX or latency alarms"
  }
  assert {
    condition = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.variant_5xx), values(aws_cloudwatch_metric_alarm.variant_latency_p99),
      values(aws_cloudwatch_metric_alarm.variant_invocations_absent), aws_cloudwatch_metric_alarm.dlq_not_empty, aws_cloudwatch_metric_alarm.batch_job_failures) :
    a.alarm_actions == toset(["arn:aws:sns:eu-west-1:111122223333:byo-alarms"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:111122223333:byo-alarms"])])
    error_message = "every alarm notifies the topic on ALARM and OK"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_5xx["blue"].tags["team"] == "ml" && aws_cloudwatch_metric_alarm.variant_5xx["blue"].tags["Name"] == "byo-scoring-blue-5xx"
    error_message = "alarms carry the given tags plus their Name"
  }
  assert {
    condition     = length(output.alarm_names) == 8 && output.alarm_names["green/latency-p99"] == "byo-scoring-green-latency-p99" && output.alarm_names["trigger-dlq-not-empty"] == "byo-trigger-dlq-not-empty"
    error_message = "alarm_names maps every alarm by key"
  }
  assert {
    condition     = length(output.alarm_arns) == 8 && output.alarm_arns["batch-job-failures"] != null
    error_message = "alarm_arns maps every alarm by key"
  }
  # Dlq and batch failures alarm:
  assert {
    condition = (aws_cloudwatch_metric_alarm.dlq_not_empty[0].namespace == "AWS/SQS"
      && aws_cloudwatch_metric_alarm.dlq_not_empty[0].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.dlq_not_empty[0].dimensions == tomap({ QueueName = "byo-trigger-dlq" })
      && aws_cloudwatch_metric_alarm.dlq_not_empty[0].comparison_operator == "GreaterThanThreshold"
    && aws_cloudwatch_metric_alarm.dlq_not_empty[0].threshold == 0)
    error_message = "any visible message on the trigger DLQ alarms"
  }
  assert {
    condition = (jsondecode(aws_cloudwatch_event_rule.this[0].event_pattern) == {
      source        = ["aws.batch"]
      "detail-type" = ["Batch Job State Change"]
      detail = {
        status   = ["FAILED"]
        jobQueue = ["arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"]
      }
    })
    error_message = "rule matches FAILED jobs of the given queue only"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this[0].arn == "arn:aws:sns:eu-west-1:111122223333:byo-alarms" && aws_cloudwatch_event_target.this[0].rule == "byo-batch-job-failed"
    error_message = "failed-job events go to the topic"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.batch_job_failures[0].namespace == "AWS/Events"
      && aws_cloudwatch_metric_alarm.batch_job_failures[0].metric_name == "TriggeredRules"
      && aws_cloudwatch_metric_alarm.batch_job_failures[0].dimensions == tomap({ RuleName = "byo-batch-job-failed" })
    && aws_cloudwatch_metric_alarm.batch_job_failures[0].comparison_operator == "GreaterThanThreshold")
    error_message = "the rule's TriggeredRules count alarms when > 0"
  }
  assert {
    condition     = output.batch_failure_rule_arn == "arn:aws:events:eu-west-1:111122223333:rule/byo-batch-job-failed"
    error_message = "rule ARN is exported"
  }
  # Topic is encrypted and only alarms and the rule publish:
  assert {
    condition     = aws_sns_topic.this[0].name == "byo-alarms" && aws_sns_topic.this[0].kms_master_key_id == "arn:aws:kms:eu-west-1:111122223333:key/platform"
    error_message = "topic is encrypted with the platform key"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_sns_topic_policy.this[0].policy).Statement : s.Condition if try(s.Principal.Service, "") == "cloudwatch.amazonaws.com"
      ]) == {
      StringEquals = { "aws:SourceAccount" = "111122223333" }
      ArnLike      = { "aws:SourceArn" = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:byo-*" }
    }
    error_message = "CloudWatch may publish only for this account's byo-* alarms"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_sns_topic_policy.this[0].policy).Statement : s.Condition if try(s.Principal.Service, "") == "events.amazonaws.com"
      ]) == {
      StringEquals = { "aws:SourceAccount" = "111122223333" }
      ArnEquals    = { "aws:SourceArn" = "arn:aws:events:eu-west-1:111122223333:rule/byo-batch-job-failed" }
    }
    error_message = "EventBridge may publish only for the failed-job rule"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_sns_topic_policy.this[0].policy).Statement : s.Principal != "*" && try(s.Principal.AWS, "") != "*"
    ])
    error_message = "no statement is open to everyone"
  }
  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "no subscriptions without emails"
  }
  assert {
    condition     = output.sns_topic_arn == "arn:aws:sns:eu-west-1:111122223333:byo-alarms"
    error_message = "topic ARN is exported"
  }
  # Dashboard shows variants dlq and alarms:
  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "byo-scoring" && output.dashboard_name == "byo-scoring"
    error_message = "dashboard is named after name and endpoint"
  }
  assert {
    condition = toset([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title]) == toset([
      "Invocations per variant", "Model latency p50 / p99 (microseconds)", "4XX / 5XX errors per variant",
      "CPU / memory utilisation per variant (%)", "Trigger DLQ depth and Batch job failures", "Alarm status",
    ])
    error_message = "dashboard has the invocation, latency, error, utilisation, DLQ and alarm widgets"
  }
  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w if w.properties.title == "Invocations per variant" && length(try(w.properties.metrics, [])) == 2
    ]) == 1
    error_message = "one invocation line per variant"
  }
  assert {
    condition = anytrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : try(m[0] == "/aws/sagemaker/Endpoints" && m[1] == "MemoryUtilization" && m[5] == "green", false)
      ]
    ]))
    error_message = "utilisation comes from /aws/sagemaker/Endpoints per variant"
  }
  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : can(m[0] == "") && can(m[1] == "")
      ]
    ]))
    error_message = "every metric line is its own [namespace, metric, dimensions..., options] array"
  }
  assert {
    condition = length(one([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.metrics if w.properties.title == "Model latency p50 / p99 (microseconds)"
    ])) == 4
    error_message = "p50 and p99 latency lines for each variant"
  }
  assert {
    condition = length(one([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.alarms if w.type == "alarm"
    ])) == 8
    error_message = "alarm widget lists every alarm"
  }
  assert {
    condition     = output.dashboard_arn == "arn:aws:cloudwatch::111122223333:dashboard/byo-scoring"
    error_message = "dashboard ARN is exported"
  }
  # Without monitoring the dashboard shows no monitoring:
  assert {
    condition     = length(output.alarm_names) == 8 && length([for k in keys(output.alarm_names) : k if startswith(k, "monitoring/")]) == 0
    error_message = "only the endpoint, DLQ and Batch alarms exist"
  }
  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 6
    error_message = "the dashboard has no monitoring widgets"
  }
}

run "emails_are_subscribed" {
  command = plan

  variables {
    alarm_emails = ["ml-oncall@example.com", "lead@example.com"]
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 2 && aws_sns_topic_subscription.email["lead@example.com"].protocol == "email"
    error_message = "one email subscription per address"
  }
}

run "custom_thresholds_and_periods" {
  command = plan

  variables {
    latency_p99_threshold_ms   = 120
    error_5xx_threshold        = 1
    period_seconds             = 60
    evaluation_periods         = 5
    invocations_absent_minutes = 10
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_latency_p99["green"].threshold == 120000 && aws_cloudwatch_metric_alarm.variant_latency_p99["green"].period == 60
    error_message = "120 ms becomes 120000 microseconds over 60-second periods"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_5xx["green"].threshold == 1 && aws_cloudwatch_metric_alarm.variant_5xx["green"].evaluation_periods == 5
    error_message = "5XX threshold and evaluation periods follow the inputs"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_invocations_absent["green"].evaluation_periods == 10
    error_message = "10 minutes of 60-second periods is 10 periods"
  }
}

run "endpoint_named_after_the_platform_is_not_prefixed_twice" {
  command = plan

  variables {
    endpoint_name = "byo-scoring"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_5xx["blue"].alarm_name == "byo-scoring-blue-5xx" && aws_cloudwatch_dashboard.this[0].dashboard_name == "byo-scoring"
    error_message = "alarm and dashboard names keep a single name prefix"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_5xx["blue"].dimensions["EndpointName"] == "byo-scoring"
    error_message = "dimensions still use the endpoint's full name"
  }
}

run "endpoint_named_exactly_like_the_platform_is_not_prefixed_twice" {
  command = plan

  variables {
    endpoint_name = "byo"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.variant_5xx["blue"].alarm_name == "byo-blue-5xx" && aws_cloudwatch_dashboard.this[0].dashboard_name == "byo"
    error_message = "an endpoint named like the platform gives byo-<variant>-5xx, not byo-byo-…"
  }
}

run "absent_alarm_can_be_turned_off" {
  command = plan

  variables {
    enable_invocations_absent_alarm = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.variant_invocations_absent) == 0 && length(aws_cloudwatch_metric_alarm.variant_5xx) == 2
    error_message = "only the absent alarms go away"
  }
  assert {
    condition     = length(output.alarm_names) == 6 && !contains(keys(output.alarm_names), "blue/invocations-absent")
    error_message = "alarm_names drops the absent alarms"
  }
}

run "dashboard_shows_drift_ndcg_and_violations" {
  command = plan

  variables {
    monitoring = {
      metric_namespace = "BYO/ModelMonitor"
      drift_threshold  = 0.1
      ndcg_threshold   = 0.9
      alarm_arns = {
        "monitoring/drift"         = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:byo-scoring-monitor-drift"
        "monitoring/data-quality"  = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:byo-scoring-monitor-data-quality"
        "monitoring/model-quality" = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:byo-scoring-monitor-model-quality"
        "monitoring/attribution"   = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:byo-scoring-monitor-attribution"
      }
    }
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 8
    error_message = "two monitoring widgets join the six others"
  }
  assert {
    condition = one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.metrics
      if w.properties.title == "Model monitoring: max feature drift and attribution NDCG"]) == [
      ["BYO/ModelMonitor", "max_feature_baseline_drift", "Endpoint", "scoring", { stat = "Maximum", label = "max feature drift" }],
      ["BYO/ModelMonitor", "feature_attribution_ndcg", "Endpoint", "scoring", { stat = "Minimum", label = "attribution NDCG" }],
    ]
    error_message = "the drift widget shows the max feature drift and the attribution NDCG"
  }
  assert {
    condition = one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.annotations.horizontal
      if w.properties.title == "Model monitoring: max feature drift and attribution NDCG"]) == [
      { label = "drift alarm", value = 0.1 }, { label = "NDCG alarm", value = 0.9 },
    ]
    error_message = "the drift widget marks both alarm thresholds"
  }
  assert {
    condition = length(one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.metrics
    if w.properties.title == "Model monitoring: violations per run"])) == 3
    error_message = "the violations widget shows data-quality, model-quality and attribution violations"
  }
  assert {
    condition     = length(one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.alarms if w.type == "alarm"])) == 12
    error_message = "the alarm widget lists the monitoring alarms too"
  }
  assert {
    condition     = length(output.alarm_names) == 8
    error_message = "alarm_names keeps the module's own alarms; the monitoring module exports its own"
  }
}

run "example_plans_the_topic_alarms_and_dashboard" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = output.dashboard_name == "byo-scoring" && length(output.alarm_names) == 8
    error_message = "the example creates the dashboard and the alarms of two variants, the DLQ and the Batch queue"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create       = false
    alarm_emails = ["ml-oncall@example.com"]
  }

  assert {
    condition = (length(aws_sns_topic.this) + length(aws_sns_topic_policy.this) + length(aws_sns_topic_subscription.email)
      + length(aws_cloudwatch_metric_alarm.variant_5xx) + length(aws_cloudwatch_metric_alarm.variant_latency_p99)
      + length(aws_cloudwatch_metric_alarm.variant_invocations_absent) + length(aws_cloudwatch_metric_alarm.dlq_not_empty)
      + length(aws_cloudwatch_metric_alarm.batch_job_failures) + length(aws_cloudwatch_event_rule.this)
    + length(aws_cloudwatch_event_target.this) + length(aws_cloudwatch_dashboard.this)) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition = (output.sns_topic_arn == null && output.alarm_names == null && output.alarm_arns == null
    && output.batch_failure_rule_arn == null && output.dashboard_name == null && output.dashboard_arn == null)
    error_message = "outputs are null when nothing is created"
  }
}

# rejects_bad_inputs_1: one bad value per variable, each must be rejected:
#   rejects_a_bad_name (var.name)
#   rejects_a_bad_email (var.alarm_emails)
#   rejects_no_variants (var.variant_names)
#   rejects_a_zero_latency_threshold (var.latency_p99_threshold_ms)
#   rejects_a_zero_5xx_threshold (var.error_5xx_threshold)
#   rejects_a_period_that_is_not_whole_minutes (var.period_seconds)
#   rejects_a_bad_queue_arn (var.batch_job_queue_arn)
#   rejects_a_bad_key_arn (var.kms_key_arn)
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    # rejects_a_bad_name
    name = "Bad_Name"
    # rejects_a_bad_email
    alarm_emails = ["not-an-email"]
    # rejects_no_variants
    variant_names = []
    # rejects_a_zero_latency_threshold
    latency_p99_threshold_ms = 0
    # rejects_a_zero_5xx_threshold
    error_5xx_threshold = 0
    # rejects_a_period_that_is_not_whole_minutes
    period_seconds = 90
    # rejects_a_bad_queue_arn
    batch_job_queue_arn = "byo-scoring"
    # rejects_a_bad_key_arn
    kms_key_arn = "alias/platform"
  }
  expect_failures = [
    var.name,
    var.alarm_emails,
    var.variant_names,
    var.latency_p99_threshold_ms,
    var.error_5xx_threshold,
    var.period_seconds,
    var.batch_job_queue_arn,
    var.kms_key_arn,
  ]
}

# rejects_bad_inputs_2: one bad value per variable, each must be rejected:
#   rejects_duplicate_variants (var.variant_names)
#   rejects_absent_minutes_that_are_not_whole_periods (var.invocations_absent_minutes)
#   rejects_zero_evaluation_periods (var.evaluation_periods)
run "rejects_bad_inputs_2" {
  command = plan
  variables {
    # rejects_duplicate_variants
    variant_names = ["blue", "blue"]
    # rejects_absent_minutes_that_are_not_whole_periods
    invocations_absent_minutes = 12
    # rejects_zero_evaluation_periods
    evaluation_periods = 0
  }
  expect_failures = [
    var.variant_names,
    var.invocations_absent_minutes,
    var.evaluation_periods,
  ]
}
