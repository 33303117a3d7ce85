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
    defaults        = { arn = "arn:aws:events:eu-west-1:111122223333:rule/byo-mocked" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    override_during = plan
    defaults        = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:byo-mocked" }
  }
  mock_resource "aws_cloudwatch_dashboard" {
    override_during = plan
    defaults        = { dashboard_arn = "arn:aws:cloudwatch::111122223333:dashboard/byo-scoring" }
  }
  mock_resource "aws_batch_job_definition" {
    override_during = plan
    defaults        = { arn = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor:3" }
  }
}

override_resource {
  target          = aws_iam_role.monitor_execution
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-monitor-execution" }
}

override_resource {
  target          = aws_iam_role.monitor_job
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-monitor-job" }
}

override_resource {
  target          = aws_iam_role.monitor_schedule
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-monitor-schedule" }
}

variables {
  name                = "byo"
  kms_key_arn         = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  endpoint_name       = "scoring"
  variant_names       = ["blue", "green"]
  batch_job_queue_arn = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
  trigger_dlq_name    = "byo-trigger-dlq"
  tags                = { team = "ml" }
  monitoring = {
    job_queue_arn    = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
    image            = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/monitor:1.0.0"
    data_bucket_name = "byo-data-111122223333-eu-west-1"
    capture_s3_uri   = "s3://byo-data-111122223333-eu-west-1/captures"
  }
}

run "monitoring_null_creates_none_of_it" {
  command = plan

  variables {
    monitoring = null
  }

  assert {
    condition = (length(aws_batch_job_definition.monitor) + length(aws_cloudwatch_event_rule.monitor) + length(aws_cloudwatch_event_target.monitor)
      + length(aws_iam_role.monitor_job) + length(aws_iam_role_policy.monitor_job) + length(aws_iam_role.monitor_execution)
      + length(aws_iam_role_policy.monitor_execution) + length(aws_iam_role.monitor_schedule) + length(aws_iam_role_policy.monitor_schedule)
    + length(aws_cloudwatch_log_group.monitor) + length(aws_cloudwatch_metric_alarm.monitoring)) == 0
    error_message = "monitoring = null creates no monitoring resources"
  }
  assert {
    condition = (output.monitor_job_definition_arn == null && output.monitor_job_definition_name == null && output.monitor_job_role_arn == null
    && output.monitor_log_group_name == null && output.monitoring_rule_name == null)
    error_message = "monitoring outputs are null without monitoring"
  }
  assert {
    condition     = length(output.alarm_names) == 8 && length([for k in keys(output.alarm_names) : k if startswith(k, "monitoring/")]) == 0
    error_message = "only the endpoint, DLQ and Batch alarms exist"
  }
  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 6
    error_message = "the dashboard has no monitoring widgets"
  }
  assert {
    condition     = length(aws_batch_job_definition.monitor) == 0 && length(aws_cloudwatch_event_rule.this) == 1 && length(aws_cloudwatch_metric_alarm.variant_5xx) == 2
    error_message = "the rest of the module is unchanged"
  }
}

run "schedule_submits_the_monitor_job_to_the_queue" {
  command = plan

  assert {
    condition = (aws_cloudwatch_event_rule.monitor[0].name == "byo-monitor-schedule"
      && aws_cloudwatch_event_rule.monitor[0].schedule_expression == "rate(1 hour)"
    && aws_cloudwatch_event_rule.monitor[0].event_pattern == null)
    error_message = "a schedule rule byo-monitor-schedule runs every hour by default"
  }
  assert {
    condition = (aws_cloudwatch_event_target.monitor[0].rule == "byo-monitor-schedule"
      && aws_cloudwatch_event_target.monitor[0].arn == "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
    && aws_cloudwatch_event_target.monitor[0].role_arn == "arn:aws:iam::111122223333:role/byo-monitor-schedule")
    error_message = "the rule targets the job queue through its own role"
  }
  assert {
    condition = (one(aws_cloudwatch_event_target.monitor[0].batch_target).job_definition == "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor:3"
    && one(aws_cloudwatch_event_target.monitor[0].batch_target).job_name == "byo-monitor")
    error_message = "the target submits the monitor job definition as job byo-monitor"
  }
  assert {
    condition     = jsondecode(aws_iam_role.monitor_schedule[0].assume_role_policy).Statement[0].Principal.Service == "events.amazonaws.com"
    error_message = "EventBridge assumes the schedule role"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.monitor_schedule[0].policy).Statement == [{
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
    condition     = output.monitoring_rule_name == "byo-monitor-schedule"
    error_message = "the rule name is exported"
  }
}

run "job_definition_runs_byo_monitor_run_on_fargate" {
  command = plan

  assert {
    condition     = aws_batch_job_definition.monitor[0].name == "byo-monitor" && aws_batch_job_definition.monitor[0].type == "container"
    error_message = "the job definition is the container job byo-monitor"
  }
  assert {
    condition     = aws_batch_job_definition.monitor[0].platform_capabilities == toset(["FARGATE"]) && aws_batch_job_definition.monitor[0].propagate_tags
    error_message = "the job runs on Fargate and propagates tags"
  }
  assert {
    condition     = jsondecode(aws_batch_job_definition.monitor[0].container_properties).image == "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/monitor:1.0.0"
    error_message = "the job runs the given image"
  }
  assert {
    condition     = jsondecode(aws_batch_job_definition.monitor[0].container_properties).command == ["monitor", "run", "--window", "1h"]
    error_message = "the command is `monitor run --window 1h`: the arguments of the image's `byo` entry point"
  }
  assert {
    condition = jsondecode(aws_batch_job_definition.monitor[0].container_properties).environment == [
      { name = "BYO_DATA_BUCKET", value = "byo-data-111122223333-eu-west-1" },
      { name = "BYO_DATA_CAPTURE_S3_URI", value = "s3://byo-data-111122223333-eu-west-1/captures" },
      { name = "BYO_ENDPOINT_NAME", value = "scoring" },
    ]
    error_message = "the job finds bucket, endpoint and captures in its environment, sorted by name"
  }
  assert {
    condition = jsondecode(aws_batch_job_definition.monitor[0].container_properties).resourceRequirements == [
      { type = "VCPU", value = "1" }, { type = "MEMORY", value = "4096" },
    ]
    error_message = "1 vCPU and 4096 MiB by default"
  }
  assert {
    condition = (jsondecode(aws_batch_job_definition.monitor[0].container_properties).executionRoleArn == "arn:aws:iam::111122223333:role/byo-monitor-execution"
    && jsondecode(aws_batch_job_definition.monitor[0].container_properties).jobRoleArn == "arn:aws:iam::111122223333:role/byo-monitor-job")
    error_message = "the container uses the monitor execution and job roles"
  }
  assert {
    condition = jsondecode(aws_batch_job_definition.monitor[0].container_properties).logConfiguration == {
      logDriver = "awslogs"
      options = {
        awslogs-group         = "/aws/batch/byo-monitor"
        awslogs-region        = "eu-west-1"
        awslogs-stream-prefix = "monitor"
      }
    }
    error_message = "logs go to /aws/batch/byo-monitor through awslogs"
  }
  assert {
    condition = (jsondecode(aws_batch_job_definition.monitor[0].container_properties).networkConfiguration.assignPublicIp == "DISABLED"
    && jsondecode(aws_batch_job_definition.monitor[0].container_properties).fargatePlatformConfiguration.platformVersion == "LATEST")
    error_message = "no public IP, LATEST Fargate platform"
  }
  assert {
    condition     = one(aws_batch_job_definition.monitor[0].timeout).attempt_duration_seconds == 1800 && one(aws_batch_job_definition.monitor[0].retry_strategy).attempts == 2
    error_message = "an attempt may take 30 minutes; a failed run is retried once"
  }
  assert {
    condition = (aws_cloudwatch_log_group.monitor[0].name == "/aws/batch/byo-monitor" && aws_cloudwatch_log_group.monitor[0].retention_in_days == 365
    && aws_cloudwatch_log_group.monitor[0].kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/platform")
    error_message = "the log group keeps a year of logs, encrypted with the platform key"
  }
  assert {
    condition     = aws_batch_job_definition.monitor[0].tags["Name"] == "byo-monitor" && aws_batch_job_definition.monitor[0].tags["team"] == "ml"
    error_message = "resources carry the given tags plus their Name"
  }
  assert {
    condition = (output.monitor_job_definition_arn == "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-monitor:3"
      && output.monitor_job_definition_name == "byo-monitor" && output.monitor_job_role_arn == "arn:aws:iam::111122223333:role/byo-monitor-job"
    && output.monitor_log_group_name == "/aws/batch/byo-monitor")
    error_message = "the job definition, job role and log group are exported"
  }
}

run "job_role_is_least_privilege" {
  command = plan

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "no wildcard actions in the job role policy"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : [s.Action, s.Condition] if contains(s.Resource, "*")] == [[["cloudwatch:PutMetricData"], { StringEquals = { "cloudwatch:namespace" = "BYO/ModelMonitor" } }]]
    error_message = "only cloudwatch:PutMetricData (which has no resource type) gets Resource \"*\", limited to the BYO/ModelMonitor namespace"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "ReadCapturesGroundTruthBaselinesAndModels"][0] == [["s3:GetObject"], [
      "arn:aws:s3:::byo-data-111122223333-eu-west-1/captures/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/ground-truth/*",
      "arn:aws:s3:::byo-data-111122223333-eu-west-1/monitoring/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/models/*",
    ]]
    error_message = "the job reads captures/, ground-truth/, monitoring/ and models/ only"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "WriteMonitoringResults"][0] == [
      ["s3:AbortMultipartUpload", "s3:PutObject"], ["arn:aws:s3:::byo-data-111122223333-eu-west-1/monitoring/*"],
    ]
    error_message = "the job writes monitoring/ only"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : s if s.Sid == "ListMonitoredPrefixes"][0] == {
      Sid       = "ListMonitoredPrefixes"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = ["arn:aws:s3:::byo-data-111122223333-eu-west-1"]
      Condition = { StringLike = { "s3:prefix" = ["captures/*", "ground-truth/*", "monitoring/*", "models/*"] } }
    }
    error_message = "listing is limited to the prefixes the job reads"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : [s.Action, s.Resource, s.Condition] if s.Sid == "UsePlatformKeyForBucket"][0] == [
      ["kms:Decrypt", "kms:GenerateDataKey"], ["arn:aws:kms:eu-west-1:111122223333:key/platform"],
      { StringEquals = { "kms:ViaService" = ["s3.eu-west-1.amazonaws.com"] } },
    ]
    error_message = "the job uses the platform key only through S3"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "DescribeEndpointConfigsAndModels"][0] == [
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
    condition     = jsondecode(aws_iam_role.monitor_job[0].assume_role_policy).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com"
    error_message = "ECS tasks assume the job role"
  }
}

run "execution_role_pulls_only_the_monitor_image_and_writes_its_logs" {
  command = plan

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_execution[0].policy).Statement : s.Resource if s.Sid == "PullMonitorImage"][0] == [
      "arn:aws:ecr:eu-west-1:111122223333:repository/byo/monitor",
    ]
    error_message = "the repository ARN is derived from the ECR image URI"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.monitor_execution[0].policy).Statement : s.Action if contains(s.Resource, "*")] == [["ecr:GetAuthorizationToken"]]
    error_message = "only ecr:GetAuthorizationToken (which has no resource type) gets Resource \"*\""
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_execution[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "WriteMonitorLogs"][0] == [
      ["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/byo-monitor:*"],
    ]
    error_message = "the execution role writes only to the monitor log group"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.monitor_execution[0].policy).Statement : alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "no wildcard actions in the execution role policy"
  }
  assert {
    condition     = jsondecode(aws_iam_role.monitor_execution[0].assume_role_policy).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com"
    error_message = "ECS tasks assume the execution role"
  }
}

run "non_ecr_image_gets_no_ecr_permissions" {
  command = plan

  variables {
    monitoring = {
      job_queue_arn    = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
      image            = "public.example.com/monitor@sha256:0123456789abcdef"
      data_bucket_name = "byo-data-111122223333-eu-west-1"
      capture_s3_uri   = "s3://byo-data-111122223333-eu-west-1/captures/"
    }
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.monitor_execution[0].policy).Statement : s.Sid] == ["WriteMonitorLogs"]
    error_message = "an image outside ECR needs only the log permissions"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : s.Resource if s.Sid == "ReadCapturesGroundTruthBaselinesAndModels"][0][0] == "arn:aws:s3:::byo-data-111122223333-eu-west-1/captures/*"
    error_message = "a trailing slash on capture_s3_uri gives the same captures/ prefix"
  }
}

run "given_repository_arn_wins" {
  command = plan

  variables {
    monitoring = {
      job_queue_arn        = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
      image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/monitor:1.0.0"
      image_repository_arn = "arn:aws:ecr:eu-west-1:444455556666:repository/shared/monitor"
      data_bucket_name     = "byo-data-111122223333-eu-west-1"
      capture_s3_uri       = "s3://byo-data-111122223333-eu-west-1/captures"
    }
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.monitor_execution[0].policy).Statement : s.Resource if s.Sid == "PullMonitorImage"][0] == ["arn:aws:ecr:eu-west-1:444455556666:repository/shared/monitor"]
    error_message = "image_repository_arn overrides the derived ARN"
  }
}

run "alarms_watch_the_monitoring_metrics" {
  command = plan

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.monitoring)) == toset(["drift", "data-quality", "model-quality", "attribution"])
    error_message = "four monitoring alarms: drift, data quality, model quality, attribution"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.monitoring :
      a.namespace == "BYO/ModelMonitor" && a.dimensions == tomap({ Endpoint = "scoring" }) && a.period == 3600 && a.evaluation_periods == 1
      && a.treat_missing_data == "notBreaching" && startswith(a.alarm_name, "byo-scoring-monitor-")
      && a.alarm_actions == toset(["arn:aws:sns:eu-west-1:111122223333:byo-alarms"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:111122223333:byo-alarms"])
    ])
    error_message = "every monitoring alarm reads BYO/ModelMonitor per endpoint hourly, ignores missing runs and notifies the topic"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.monitoring["drift"].metric_name == "max_feature_baseline_drift"
      && aws_cloudwatch_metric_alarm.monitoring["drift"].comparison_operator == "GreaterThanThreshold"
    && aws_cloudwatch_metric_alarm.monitoring["drift"].threshold == 0.1 && aws_cloudwatch_metric_alarm.monitoring["drift"].statistic == "Maximum")
    error_message = "drift alarms when the largest feature drift exceeds 0.1"
  }
  assert {
    condition = alltrue([for k, m in { "data-quality" = "data_quality_violations", "model-quality" = "model_quality_violations" } :
      aws_cloudwatch_metric_alarm.monitoring[k].metric_name == m && aws_cloudwatch_metric_alarm.monitoring[k].threshold == 1
      && aws_cloudwatch_metric_alarm.monitoring[k].comparison_operator == "GreaterThanOrEqualToThreshold"
    ])
    error_message = "data- and model-quality alarms fire on any violation"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.monitoring["attribution"].metric_name == "feature_attribution_ndcg"
      && aws_cloudwatch_metric_alarm.monitoring["attribution"].comparison_operator == "LessThanThreshold"
    && aws_cloudwatch_metric_alarm.monitoring["attribution"].threshold == 0.9 && aws_cloudwatch_metric_alarm.monitoring["attribution"].statistic == "Minimum")
    error_message = "attribution alarms when NDCG falls below 0.9"
  }
  assert {
    condition = (length(output.alarm_names) == 12 && output.alarm_names["monitoring/drift"] == "byo-scoring-monitor-drift"
      && output.alarm_names["monitoring/data-quality"] == "byo-scoring-monitor-data-quality"
      && output.alarm_names["monitoring/model-quality"] == "byo-scoring-monitor-model-quality"
    && output.alarm_names["monitoring/attribution"] == "byo-scoring-monitor-attribution")
    error_message = "alarm_names maps the monitoring alarms under monitoring/<check>"
  }
  assert {
    condition     = length([for k in keys(output.alarm_names) : k if startswith(k, "monitoring/") && (endswith(k, "/5xx") || endswith(k, "/latency-p99"))]) == 0
    error_message = "no monitoring key looks like a blue/green rollback alarm (<variant>/5xx, <variant>/latency-p99)"
  }
}

run "dashboard_shows_drift_ndcg_and_violations" {
  command = plan

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
}

run "custom_schedule_window_resources_and_thresholds" {
  command = plan

  variables {
    monitoring = {
      job_queue_arn       = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
      image               = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/monitor:1.0.0"
      data_bucket_name    = "byo-data-111122223333-eu-west-1"
      capture_s3_uri      = "s3://byo-data-111122223333-eu-west-1/endpoint/captures"
      ground_truth_prefix = "labels/"
      monitoring_prefix   = "quality/monitoring/"
      models_prefix       = "artifacts/"
      schedule_expression = "cron(5 */6 * * ? *)"
      window              = "6h"
      vcpu                = 2
      memory_mib          = 8192
      timeout_seconds     = 3600
      log_retention_days  = 30
      drift_threshold     = 0.25
      ndcg_threshold      = 0.8
    }
  }

  assert {
    condition     = aws_cloudwatch_event_rule.monitor[0].schedule_expression == "cron(5 */6 * * ? *)"
    error_message = "the schedule follows schedule_expression"
  }
  assert {
    condition     = jsondecode(aws_batch_job_definition.monitor[0].container_properties).command == ["monitor", "run", "--window", "6h"]
    error_message = "the window follows window"
  }
  assert {
    condition = (jsondecode(aws_batch_job_definition.monitor[0].container_properties).resourceRequirements == [{ type = "VCPU", value = "2" }, { type = "MEMORY", value = "8192" }]
    && one(aws_batch_job_definition.monitor[0].timeout).attempt_duration_seconds == 3600 && aws_cloudwatch_log_group.monitor[0].retention_in_days == 30)
    error_message = "vCPU, memory, timeout and log retention follow the inputs"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.monitoring["drift"].threshold == 0.25 && aws_cloudwatch_metric_alarm.monitoring["attribution"].threshold == 0.8
    error_message = "the drift and NDCG thresholds follow the inputs"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : s.Condition if s.Sid == "ListMonitoredPrefixes"][0] == {
      StringLike = { "s3:prefix" = ["endpoint/captures/*", "labels/*", "quality/monitoring/*", "artifacts/*"] }
    }
    error_message = "the job's prefixes follow capture_s3_uri and the given prefixes"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : s.Resource if s.Sid == "WriteMonitoringResults"][0] == ["arn:aws:s3:::byo-data-111122223333-eu-west-1/quality/monitoring/*"]
    error_message = "the job writes under the given monitoring_prefix"
  }
}

run "endpoint_named_after_the_platform_describes_one_prefix" {
  command = plan

  variables {
    endpoint_name = "byo"
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.monitor_job[0].policy).Statement : s.Resource if s.Sid == "DescribeEndpointConfigsAndModels"][0] == [
      "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/byo",
      "arn:aws:sagemaker:eu-west-1:111122223333:endpoint-config/byo-*",
      "arn:aws:sagemaker:eu-west-1:111122223333:model/byo-*",
    ]
    error_message = "no duplicate resources when the endpoint carries the platform's name"
  }
}

run "create_false_creates_no_monitoring" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = (length(aws_batch_job_definition.monitor) + length(aws_cloudwatch_event_rule.monitor) + length(aws_cloudwatch_event_target.monitor)
      + length(aws_iam_role.monitor_job) + length(aws_iam_role.monitor_execution) + length(aws_iam_role.monitor_schedule)
    + length(aws_cloudwatch_log_group.monitor) + length(aws_cloudwatch_metric_alarm.monitoring)) == 0
    error_message = "create = false creates no monitoring resources either"
  }
  assert {
    condition     = output.monitor_job_definition_arn == null && output.monitoring_rule_name == null && output.monitor_job_role_arn == null && output.alarm_names == null
    error_message = "outputs are null when nothing is created"
  }
}

run "rejects_a_schedule_that_is_not_rate_or_cron" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { schedule_expression = "every hour" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_rate_with_the_wrong_unit_number" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { schedule_expression = "rate(1 hours)" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_cron_without_six_fields" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { schedule_expression = "cron(0 * * * *)" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_window_that_is_not_a_duration" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { window = "1 hour" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_zero_drift_threshold" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { drift_threshold = 0 })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_drift_threshold_of_one_or_more" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { drift_threshold = 1 })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_zero_ndcg_threshold" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { ndcg_threshold = 0 })
  }
  expect_failures = [var.monitoring]
}

run "rejects_an_ndcg_threshold_above_one" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { ndcg_threshold = 1.2 })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_bad_queue_arn" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { job_queue_arn = "byo-scoring" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_an_image_with_spaces" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { image = "my image" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_bad_repository_arn" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { image_repository_arn = "byo/monitor" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_captures_outside_the_data_bucket" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { capture_s3_uri = "s3://another-bucket/captures" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_the_bucket_root_as_captures" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { capture_s3_uri = "s3://byo-data-111122223333-eu-west-1/" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_prefix_without_a_trailing_slash" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { monitoring_prefix = "monitoring" })
  }
  expect_failures = [var.monitoring]
}

run "rejects_memory_that_does_not_fit_the_fargate_vcpu" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { vcpu = 1, memory_mib = 1024 })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_vcpu_fargate_cannot_run" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { vcpu = 3, memory_mib = 8192 })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_short_timeout" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { timeout_seconds = 30 })
  }
  expect_failures = [var.monitoring]
}

run "rejects_a_retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    monitoring = merge(var.monitoring, { log_retention_days = 2 })
  }
  expect_failures = [var.monitoring]
}
