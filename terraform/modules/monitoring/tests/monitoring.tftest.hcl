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
  mock_resource "aws_cloudwatch_event_rule" {
    override_during = plan
    defaults        = { arn = "arn:aws:events:eu-west-1:111122223333:rule/byo-monitor-schedule" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    override_during = plan
    defaults        = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:byo-mocked" }
  }
  mock_resource "aws_batch_job_definition" {
    override_during = plan
    defaults        = { arn = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor:3" }
  }
}

override_resource {
  target          = aws_iam_role.execution
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-monitor-execution" }
}

override_resource {
  target          = aws_iam_role.job
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-monitor-job" }
}

override_resource {
  target          = aws_iam_role.schedule
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-monitor-schedule" }
}

variables {
  name                 = "byo"
  kms_key_arn          = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  endpoint_name        = "scoring"
  image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators:1.0.0"
  image_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
  job_queue_arn        = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
  job_definition_arn   = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor:3"
  sns_topic_arn        = "arn:aws:sns:eu-west-1:111122223333:byo-alarms"
  data_bucket_name     = "byo-data-111122223333-eu-west-1"
  data_bucket_arn      = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  capture_s3_uri       = "s3://byo-data-111122223333-eu-west-1/captures"
  tags                 = { team = "ml" }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create             = false
    job_definition_arn = null
  }

  assert {
    condition = (length(aws_cloudwatch_event_rule.this) + length(aws_cloudwatch_event_target.this)
      + length(aws_iam_role.job) + length(aws_iam_role_policy.job) + length(aws_iam_role.execution)
      + length(aws_iam_role_policy.execution) + length(aws_iam_role.schedule) + length(aws_iam_role_policy.schedule)
    + length(aws_cloudwatch_log_group.this) + length(aws_cloudwatch_metric_alarm.this)) == 0
    error_message = "create = false creates no monitoring resources"
  }
  assert {
    condition = (output.job_definition == null && output.rule_name == null && output.rule_arn == null && output.alarm_names == null
      && output.alarm_arns == null && output.dashboard == null && output.log_group_name == null && output.job_role_arn == null
    && output.execution_role_arn == null && output.schedule_role_arn == null)
    error_message = "outputs are null when nothing is created"
  }
}

run "schedule_submits_the_monitor_job_to_the_queue" {
  command = plan

  assert {
    condition = (aws_cloudwatch_event_rule.this[0].name == "byo-monitor-schedule"
      && aws_cloudwatch_event_rule.this[0].schedule_expression == "rate(1 hour)"
    && aws_cloudwatch_event_rule.this[0].event_pattern == null)
    error_message = "a schedule rule byo-monitor-schedule runs every hour by default"
  }
  assert {
    condition = (aws_cloudwatch_event_target.this[0].rule == "byo-monitor-schedule"
      && aws_cloudwatch_event_target.this[0].arn == "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
    && aws_cloudwatch_event_target.this[0].role_arn == "arn:aws:iam::111122223333:role/byo-monitor-schedule")
    error_message = "the rule targets the job queue through its own role"
  }
  assert {
    condition = (one(aws_cloudwatch_event_target.this[0].batch_target).job_definition == "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor:3"
    && one(aws_cloudwatch_event_target.this[0].batch_target).job_name == "byo-monitor")
    error_message = "the target submits the monitor job definition as job byo-monitor"
  }
  assert {
    condition     = jsondecode(aws_iam_role.schedule[0].assume_role_policy).Statement[0].Principal.Service == "events.amazonaws.com"
    error_message = "EventBridge assumes the schedule role"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.schedule[0].policy).Statement == [{
      Sid    = "SubmitMonitorJobs"
      Effect = "Allow"
      Action = ["batch:SubmitJob"]
      Resource = [
        "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring",
        "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor:3",
        "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor",
      ]
    }]
    error_message = "the schedule role may only submit the monitor job (revisioned and unrevisioned definition) to the queue"
  }
  assert {
    condition     = output.rule_name == "byo-monitor-schedule" && output.schedule_role_arn == "arn:aws:iam::111122223333:role/byo-monitor-schedule"
    error_message = "the rule name and the schedule role are exported"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this[0].tags["Name"] == "byo-monitor-schedule" && aws_cloudwatch_event_rule.this[0].tags["team"] == "ml"
    error_message = "resources carry the given tags plus their Name"
  }
  # Job definition runs byo monitor run:
  assert {
    condition     = output.job_definition.image == "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators:1.0.0"
    error_message = "the job runs the given image"
  }
  assert {
    condition     = output.job_definition.command == ["monitor", "run", "--window", "1h"]
    error_message = "the command is `monitor run --window 1h`: the arguments of the image's `byo` entry point"
  }
  assert {
    condition = output.job_definition.environment == {
      BYO_DATA_BUCKET         = "byo-data-111122223333-eu-west-1"
      BYO_DATA_CAPTURE_S3_URI = "s3://byo-data-111122223333-eu-west-1/captures"
      BYO_ENDPOINT_NAME       = "scoring"
      BYO_DATA_PREFIXES       = jsonencode({ ground_truth = "ground-truth/", models = "models/", monitoring = "monitoring/" })
    }
    error_message = "the job finds bucket, endpoint, captures and the bucket's layout in its environment"
  }
  assert {
    condition     = output.job_definition.vcpu == 1 && output.job_definition.memory_mib == 4096
    error_message = "1 vCPU and 4096 MiB by default"
  }
  assert {
    condition = (output.job_definition.execution_role_arn == "arn:aws:iam::111122223333:role/byo-monitor-execution"
    && output.job_definition.job_role_arn == "arn:aws:iam::111122223333:role/byo-monitor-job")
    error_message = "the container uses the monitor execution and job roles"
  }
  assert {
    condition     = output.job_definition.log_group_name == "/aws/batch/byo-monitor"
    error_message = "logs go to /aws/batch/byo-monitor"
  }
  assert {
    condition     = output.job_definition.timeout_seconds == 1800 && output.job_definition.attempts == 2
    error_message = "an attempt may take 30 minutes; a failed run is retried once"
  }
  assert {
    condition     = output.job_definition.image_repository_arn == "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
    error_message = "the job definition names its repository"
  }
  assert {
    condition = (aws_cloudwatch_log_group.this[0].name == "/aws/batch/byo-monitor" && aws_cloudwatch_log_group.this[0].retention_in_days == 365
    && aws_cloudwatch_log_group.this[0].kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/platform")
    error_message = "the log group keeps a year of logs, encrypted with the platform key"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this[0].tags["Name"] == "/aws/batch/byo-monitor" && aws_cloudwatch_log_group.this[0].tags["team"] == "ml"
    error_message = "resources carry the given tags plus their Name"
  }
  assert {
    condition = (output.job_role_arn == "arn:aws:iam::111122223333:role/byo-monitor-job" && output.execution_role_arn == "arn:aws:iam::111122223333:role/byo-monitor-execution"
    && output.log_group_name == "/aws/batch/byo-monitor")
    error_message = "the job role, execution role and log group are exported"
  }
  # Job role is least privilege:
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "no wildcard actions in the job role policy"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [s.Action, s.Condition] if contains(s.Resource, "*")] == [[["cloudwatch:PutMetricData"], { StringEquals = { "cloudwatch:namespace" = "BYO/ModelMonitor" } }]]
    error_message = "only cloudwatch:PutMetricData (which has no resource type) gets Resource \"*\", limited to the BYO/ModelMonitor namespace"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "ReadCapturesGroundTruthBaselinesAndModels"][0] == [["s3:GetObject"], [
      "arn:aws:s3:::byo-data-111122223333-eu-west-1/captures/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/ground-truth/*",
      "arn:aws:s3:::byo-data-111122223333-eu-west-1/monitoring/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/models/*",
    ]]
    error_message = "the job reads captures/, ground-truth/, monitoring/ and models/ only"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "WriteMonitoringResults"][0] == [
      ["s3:AbortMultipartUpload", "s3:PutObject"], ["arn:aws:s3:::byo-data-111122223333-eu-west-1/monitoring/*"],
    ]
    error_message = "the job writes monitoring/ only"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s if s.Sid == "ListMonitoredPrefixes"][0] == {
      Sid       = "ListMonitoredPrefixes"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = ["arn:aws:s3:::byo-data-111122223333-eu-west-1"]
      Condition = { StringLike = { "s3:prefix" = ["captures/*", "ground-truth/*", "monitoring/*", "models/*"] } }
    }
    error_message = "listing is limited to the prefixes the job reads"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [s.Action, s.Resource, s.Condition] if s.Sid == "UsePlatformKeyForBucket"][0] == [
      ["kms:Decrypt", "kms:GenerateDataKey"], ["arn:aws:kms:eu-west-1:111122223333:key/platform"],
      { StringEquals = { "kms:ViaService" = ["s3.eu-west-1.amazonaws.com"] } },
    ]
    error_message = "the job uses the platform key only through S3"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "DescribeEndpointConfigsAndModels"][0] == [
      ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"],
      [
        "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/scoring",
        "arn:aws:sagemaker:eu-west-1:111122223333:endpoint-config/scoring-*",
        "arn:aws:sagemaker:eu-west-1:111122223333:endpoint-config/byo-*",
        "arn:aws:sagemaker:eu-west-1:111122223333:model/scoring-*",
        "arn:aws:sagemaker:eu-west-1:111122223333:model/byo-*",
      ],
    ]
    error_message = "the job describes only the endpoint and the configs and models named after it or the platform"
  }
  assert {
    condition     = jsondecode(aws_iam_role.job[0].assume_role_policy).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com"
    error_message = "ECS tasks assume the job role"
  }
  # Execution role pulls only the monitor image and writes its logs:
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : s.Resource if s.Sid == "PullMonitorImage"][0] == [
      "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators",
    ]
    error_message = "the execution role pulls only from the given repository (image_repository_arn)"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : s.Action if contains(s.Resource, "*")] == [["ecr:GetAuthorizationToken"]]
    error_message = "only ecr:GetAuthorizationToken (which has no resource type) gets Resource \"*\""
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "WriteMonitorLogs"][0] == [
      ["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/byo-monitor:*"],
    ]
    error_message = "the execution role writes only to the monitor log group"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "no wildcard actions in the execution role policy"
  }
  assert {
    condition     = jsondecode(aws_iam_role.execution[0].assume_role_policy).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com"
    error_message = "ECS tasks assume the execution role"
  }
  # Alarms watch the monitoring metrics:
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset(["drift", "data-quality", "model-quality", "attribution"])
    error_message = "four monitoring alarms: drift, data quality, model quality, attribution"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.this :
      a.namespace == "BYO/ModelMonitor" && a.dimensions == tomap({ Endpoint = "scoring" }) && a.period == 3600 && a.evaluation_periods == 1
      && a.treat_missing_data == "notBreaching" && startswith(a.alarm_name, "byo-scoring-monitor-")
      && a.alarm_actions == toset(["arn:aws:sns:eu-west-1:111122223333:byo-alarms"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:111122223333:byo-alarms"])
    ])
    error_message = "every monitoring alarm reads BYO/ModelMonitor per endpoint hourly, ignores missing runs and notifies the topic"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.this["drift"].metric_name == "max_feature_baseline_drift"
      && aws_cloudwatch_metric_alarm.this["drift"].comparison_operator == "GreaterThanThreshold"
    && aws_cloudwatch_metric_alarm.this["drift"].threshold == 0.1 && aws_cloudwatch_metric_alarm.this["drift"].statistic == "Maximum")
    error_message = "drift alarms when the largest feature drift exceeds 0.1"
  }
  assert {
    condition = alltrue([for k, m in { "data-quality" = "data_quality_violations", "model-quality" = "model_quality_violations" } :
      aws_cloudwatch_metric_alarm.this[k].metric_name == m && aws_cloudwatch_metric_alarm.this[k].threshold == 1
      && aws_cloudwatch_metric_alarm.this[k].comparison_operator == "GreaterThanOrEqualToThreshold"
    ])
    error_message = "data- and model-quality alarms fire on any violation"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.this["attribution"].metric_name == "feature_attribution_ndcg"
      && aws_cloudwatch_metric_alarm.this["attribution"].comparison_operator == "LessThanThreshold"
    && aws_cloudwatch_metric_alarm.this["attribution"].threshold == 0.9 && aws_cloudwatch_metric_alarm.this["attribution"].statistic == "Minimum")
    error_message = "attribution alarms when NDCG falls below 0.9"
  }
  assert {
    condition = (length(output.alarm_names) == 4 && output.alarm_names["monitoring/drift"] == "byo-scoring-monitor-drift"
      && output.alarm_names["monitoring/data-quality"] == "byo-scoring-monitor-data-quality"
      && output.alarm_names["monitoring/model-quality"] == "byo-scoring-monitor-model-quality"
    && output.alarm_names["monitoring/attribution"] == "byo-scoring-monitor-attribution")
    error_message = "alarm_names maps the monitoring alarms under monitoring/<check>"
  }
  assert {
    condition     = length([for k in keys(output.alarm_names) : k if startswith(k, "monitoring/") && (endswith(k, "/5xx") || endswith(k, "/latency-p99"))]) == 0
    error_message = "no monitoring key looks like a blue/green rollback alarm (<variant>/5xx, <variant>/latency-p99)"
  }
  assert {
    condition     = keys(output.alarm_arns) == keys(output.alarm_names)
    error_message = "alarm_arns maps the same keys"
  }
  # Dashboard output carries what the dashboard shows:
  assert {
    condition = (output.dashboard.metric_namespace == "BYO/ModelMonitor" && output.dashboard.drift_threshold == 0.1
    && output.dashboard.ndcg_threshold == 0.9 && keys(output.dashboard.alarm_arns) == keys(output.alarm_names))
    error_message = "the dashboard output carries the namespace, both alarm thresholds and the alarms"
  }
}

run "the_whole_storage_layout_reaches_the_job" {
  command = plan

  variables {
    data_prefixes = {
      input        = "input/"
      captures     = "captures/"
      ground_truth = "ground-truth/"
      monitoring   = "monitoring/"
      models       = "models/"
    }
  }

  assert {
    condition     = jsondecode(output.job_definition.environment.BYO_DATA_PREFIXES) == { input = "input/", captures = "captures/", ground_truth = "ground-truth/", monitoring = "monitoring/", models = "models/" }
    error_message = "BYO_DATA_PREFIXES carries every prefix of the given layout"
  }
}

run "non_ecr_image_gets_no_ecr_permissions" {
  command = plan

  variables {
    image                = "public.example.com/monitor@sha256:0123456789abcdef"
    image_repository_arn = null
    capture_s3_uri       = "s3://byo-data-111122223333-eu-west-1/captures/"
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : s.Sid] == ["WriteMonitorLogs"]
    error_message = "an image outside ECR needs only the log permissions"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Resource if s.Sid == "ReadCapturesGroundTruthBaselinesAndModels"][0][0] == "arn:aws:s3:::byo-data-111122223333-eu-west-1/captures/*"
    error_message = "a trailing slash on capture_s3_uri gives the same captures/ prefix"
  }
}

run "custom_schedule_window_resources_and_thresholds" {
  command = plan

  variables {
    capture_s3_uri      = "s3://byo-data-111122223333-eu-west-1/endpoint/captures"
    data_prefixes       = { ground_truth = "labels/", monitoring = "quality/monitoring/", models = "artifacts/" }
    schedule_expression = "cron(5 */6 * * ? *)"
    window              = "6h"
    vcpu                = 2
    memory_mib          = 8192
    timeout_seconds     = 3600
    log_retention_days  = 30
    drift_threshold     = 0.25
    ndcg_threshold      = 0.8
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this[0].schedule_expression == "cron(5 */6 * * ? *)"
    error_message = "the schedule follows schedule_expression"
  }
  assert {
    condition     = output.job_definition.command == ["monitor", "run", "--window", "6h"]
    error_message = "the window follows window"
  }
  assert {
    condition = (output.job_definition.vcpu == 2 && output.job_definition.memory_mib == 8192
    && output.job_definition.timeout_seconds == 3600 && aws_cloudwatch_log_group.this[0].retention_in_days == 30)
    error_message = "vCPU, memory, timeout and log retention follow the inputs"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["drift"].threshold == 0.25 && aws_cloudwatch_metric_alarm.this["attribution"].threshold == 0.8
    error_message = "the drift and NDCG thresholds follow the inputs"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Condition if s.Sid == "ListMonitoredPrefixes"][0] == {
      StringLike = { "s3:prefix" = ["endpoint/captures/*", "labels/*", "quality/monitoring/*", "artifacts/*"] }
    }
    error_message = "the job's prefixes follow capture_s3_uri and the given prefixes"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Resource if s.Sid == "WriteMonitoringResults"][0] == ["arn:aws:s3:::byo-data-111122223333-eu-west-1/quality/monitoring/*"]
    error_message = "the job writes under the given monitoring prefix"
  }
}

run "endpoint_named_after_the_platform_describes_one_prefix" {
  command = plan

  variables {
    endpoint_name = "byo"
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Resource if s.Sid == "DescribeEndpointConfigsAndModels"][0] == [
      "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/byo",
      "arn:aws:sagemaker:eu-west-1:111122223333:endpoint-config/byo-*",
      "arn:aws:sagemaker:eu-west-1:111122223333:model/byo-*",
    ]
    error_message = "no duplicate resources when the endpoint carries the platform's name"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["drift"].alarm_name == "byo-monitor-drift"
    error_message = "an endpoint named like the platform gives byo-monitor-<check>, not byo-byo-…"
  }
}

run "example_wires_the_job_definition_through_the_batch_module" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = output.monitor_job_definition_name == "byo-monitor"
    error_message = "the batch module names the monitoring job's definition byo-monitor"
  }
  assert {
    condition     = output.monitoring_rule_name == "byo-monitor-schedule" && length(output.alarm_names) == 4
    error_message = "the example schedules the job and creates its four alarms"
  }
}

# Bad inputs, merged so each run costs one provider load: every variable listed in a run's
# expect_failures must report its own validation error, so no case hides another. A variable
# with several bad cases appears in several runs, one case per run. vcpu and memory_mib are
# checked together (memory_mib's validation reads vcpu), so their cases are in different runs.

# Rejects: a schedule that is not rate or cron, a window that is not a duration, a zero drift
# threshold, a zero NDCG threshold, a bad queue ARN, an unrevisioned job definition ARN, a bad
# topic ARN, an image with spaces, a bad repository ARN, a bucket ARN of another bucket,
# captures outside the data bucket, a prefix without a trailing slash, memory that does not fit
# the Fargate vCPU, a short timeout, a retention CloudWatch does not offer.
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    schedule_expression  = "every hour"                                                      # not rate(...) or cron(...)
    window               = "1 hour"                                                          # not a duration
    drift_threshold      = 0                                                                 # a zero drift threshold
    ndcg_threshold       = 0                                                                 # a zero NDCG threshold
    job_queue_arn        = "byo-scoring"                                                     # a bad queue ARN
    job_definition_arn   = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor" # an unrevisioned job definition ARN
    sns_topic_arn        = "byo-alarms"                                                      # a bad topic ARN
    image                = "my image"                                                        # an image with spaces
    image_repository_arn = "byo/operators"                                                   # a bad repository ARN
    data_bucket_arn      = "arn:aws:s3:::another-bucket"                                     # the ARN of another bucket
    capture_s3_uri       = "s3://another-bucket/captures"                                    # captures outside the data bucket
    data_prefixes        = { monitoring = "monitoring" }                                     # a prefix without a trailing slash
    vcpu                 = 1                                                                 # valid: the vCPU memory_mib must fit
    memory_mib           = 1024                                                              # memory that does not fit the Fargate vCPU (1)
    timeout_seconds      = 30                                                                # a short timeout
    log_retention_days   = 2                                                                 # a retention CloudWatch does not offer
  }
  expect_failures = [
    var.schedule_expression, var.window, var.drift_threshold, var.ndcg_threshold, var.job_queue_arn,
    var.job_definition_arn, var.sns_topic_arn, var.image, var.image_repository_arn, var.data_bucket_arn,
    var.capture_s3_uri, var.data_prefixes, var.memory_mib, var.timeout_seconds, var.log_retention_days,
  ]
}

# Rejects: a rate with the wrong unit number, a drift threshold of one or more, an NDCG threshold
# above one, no job definition when created, the bucket root as captures, a vCPU Fargate cannot run.
run "rejects_bad_inputs_2" {
  command = plan
  variables {
    schedule_expression = "rate(1 hours)"                         # a rate with the wrong unit number
    drift_threshold     = 1                                       # a drift threshold of one or more
    ndcg_threshold      = 1.2                                     # an NDCG threshold above one
    job_definition_arn  = null                                    # no job definition when created
    capture_s3_uri      = "s3://byo-data-111122223333-eu-west-1/" # the bucket root as captures
    vcpu                = 3                                       # a vCPU Fargate cannot run
    memory_mib          = 8192                                    # valid memory for the rejected vCPU
  }
  expect_failures = [
    var.schedule_expression, var.drift_threshold, var.ndcg_threshold, var.job_definition_arn,
    var.capture_s3_uri, var.vcpu,
  ]
}

# Rejects: a cron without six fields.
run "rejects_bad_inputs_3" {
  command = plan
  variables {
    schedule_expression = "cron(0 * * * *)" # a cron without six fields
  }
  expect_failures = [var.schedule_expression]
}
