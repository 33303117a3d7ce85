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
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/cloudtrail/byo-audit" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/byo-audit-trail-logs" }
  }
}

variables {
  name        = "byo"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  trusted_role_arns = [
    "arn:aws:iam::111122223333:role/byo-operator",
    "arn:aws:iam::111122223333:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
  ]
  alarm_topic_arn = "arn:aws:sns:eu-west-1:111122223333:byo-alarms"
}

run "a_multi_region_trail_with_validated_encrypted_log_files_and_logs_delivery" {
  command = apply

  assert {
    condition = (
      aws_cloudtrail.this[0].is_multi_region_trail
      && aws_cloudtrail.this[0].enable_log_file_validation
      && aws_cloudtrail.this[0].include_global_service_events
      && aws_cloudtrail.this[0].kms_key_id == var.kms_key_arn
      && aws_cloudtrail.this[0].s3_key_prefix == "cloudtrail"
      && aws_cloudtrail.this[0].cloud_watch_logs_group_arn == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/cloudtrail/byo-audit:*"
    )
    error_message = "the trail records every region into KMS-encrypted, validated log files and the log group"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].kms_key_id == var.kms_key_arn && aws_cloudwatch_log_group.this[0].retention_in_days == 365
    error_message = "the trail's log group is KMS encrypted and kept a year"
  }

  assert {
    condition     = aws_s3_bucket.this[0].bucket == "byo-audit-111122223333-eu-west-1" && !aws_s3_bucket.this[0].object_lock_enabled
    error_message = "the trail's bucket is named per account and region, without object lock by default"
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn
      && aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled"
      && aws_s3_bucket_public_access_block.this[0].restrict_public_buckets
    )
    error_message = "the bucket is KMS encrypted, versioned and private"
  }
}

run "the_bucket_policy_denies_plain_http_and_lets_only_this_trail_write_its_prefix" {
  command = plan

  assert {
    condition = (
      local.statements["DenyInsecureTransport"].Effect == "Deny"
      && local.statements["DenyInsecureTransport"].Condition.Bool["aws:SecureTransport"] == "false"
    )
    error_message = "the trail's bucket is TLS only"
  }

  assert {
    condition = (
      local.statements["CloudTrailWritesTheTrailsLogFiles"].Resource == "arn:aws:s3:::byo-audit-111122223333-eu-west-1/cloudtrail/AWSLogs/111122223333/*"
      && local.statements["CloudTrailWritesTheTrailsLogFiles"].Condition.StringEquals["aws:SourceArn"] == "arn:aws:cloudtrail:eu-west-1:111122223333:trail/byo-audit"
      && local.statements["CloudTrailChecksTheBucketAcl"].Condition.StringEquals["aws:SourceArn"] == "arn:aws:cloudtrail:eu-west-1:111122223333:trail/byo-audit"
    )
    error_message = "CloudTrail writes only this trail's log files under the prefix"
  }
  # Metric filters count successful serving changes by untrusted callers and alarm:
  assert {
    condition = alltrue([for k, f in aws_cloudwatch_log_metric_filter.this :
      strcontains(f.pattern, "$.eventSource = \"sagemaker.amazonaws.com\"")
      && strcontains(f.pattern, "($.errorCode NOT EXISTS)")
      && strcontains(f.pattern, "($.userIdentity.sessionContext.sessionIssuer.arn NOT EXISTS) || (")
      && strcontains(f.pattern, "($.userIdentity.sessionContext.sessionIssuer.arn != \"arn:aws:iam::111122223333:role/byo-operator\") && (")
      && length(f.pattern) <= 1024
    ])
    error_message = "each filter counts successful SageMaker calls whose caller is no trusted role (a caller without a session issuer included)"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_log_metric_filter.this["traffic"].pattern, "UpdateEndpointWeightsAndCapacities") && strcontains(aws_cloudwatch_log_metric_filter.this["endpoint"].pattern, "DeleteModel") && strcontains(aws_cloudwatch_log_metric_filter.this["registry"].pattern, "$.requestParameters.modelApprovalStatus = \"*\"")
    error_message = "the endpoint, traffic and registry changes each have their filter"
  }
  assert {
    condition = alltrue([for k, a in aws_cloudwatch_metric_alarm.this :
      a.namespace == "byo/Audit" && a.threshold == 1 && a.comparison_operator == "GreaterThanOrEqualToThreshold"
      && a.treat_missing_data == "notBreaching" && contains(a.alarm_actions, var.alarm_topic_arn)
    ]) && length(aws_cloudwatch_metric_alarm.this) == 3
    error_message = "one untrusted change is enough to alarm, and the alarm notifies the topic"
  }
  # The logs role writes only the trails streams:
  assert {
    condition = (
      jsondecode(aws_iam_role_policy.logs[0].policy).Statement[0].Resource == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/cloudtrail/byo-audit:log-stream:111122223333_CloudTrail_*"
      && jsondecode(aws_iam_role.logs[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceArn"] == "arn:aws:cloudtrail:eu-west-1:111122223333:trail/byo-audit"
    )
    error_message = "CloudTrail's logs role is scoped to the trail's streams and to this trail"
  }
}

run "without_trusted_roles_every_caller_counts" {
  command = plan

  variables {
    trusted_role_arns = []
  }

  assert {
    condition     = alltrue([for k, f in aws_cloudwatch_log_metric_filter.this : !strcontains(f.pattern, "sessionIssuer")])
    error_message = "no trusted role, no exclusion"
  }
}

run "object_lock_and_the_lifecycle" {
  command = plan

  variables {
    object_lock              = { mode = "COMPLIANCE", days = 400 }
    log_file_expiration_days = 400
  }

  assert {
    condition     = aws_s3_bucket.this[0].object_lock_enabled && one(aws_s3_bucket_object_lock_configuration.this[0].rule).default_retention[0].mode == "COMPLIANCE"
    error_message = "object lock keeps every log file for its days"
  }

  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.this[0].rule : r if r.id == "log-files"][0].expiration[0].days == 400 && one([for r in aws_s3_bucket_lifecycle_configuration.this[0].rule : r if r.id == "log-files"][0].transition).storage_class == "GLACIER"
    error_message = "log files move to Glacier and expire"
  }
}

# Refuses, in one plan, two preconditions on different resources that read different variables:
#   a_lock_longer_than_the_expiration_is_refused: object_lock.days 400 over log_file_expiration_days
#     365 (aws_s3_bucket_lifecycle_configuration.this, which reads only object_lock,
#     log_file_expiration_days and transition_to_glacier_days)
#   too_many_trusted_roles_for_a_pattern_are_refused: 12 long trusted role ARNs make a filter pattern
#     over 1024 characters (aws_cloudwatch_log_metric_filter.this, whose patterns read only
#     trusted_role_arns)
run "a_lock_longer_than_the_expiration_and_too_many_trusted_roles_are_refused" {
  command = plan

  variables {
    # a lock longer than the expiration
    object_lock              = { mode = "GOVERNANCE", days = 400 }
    log_file_expiration_days = 365
    # too many trusted roles for a pattern
    trusted_role_arns = [for i in range(12) : "arn:aws:iam::111122223333:role/some-rather-long-team-role-name-${i}"]
  }

  expect_failures = [
    aws_s3_bucket_lifecycle_configuration.this,
    aws_cloudwatch_log_metric_filter.this,
  ]
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = output.trail_name == "byo-audit" && output.log_group == "/aws/cloudtrail/byo-audit"
    error_message = "the example creates the trail and its log group"
  }
  assert {
    condition     = output.alarm_names == { endpoint = "byo-untrusted-endpoint-change", traffic = "byo-untrusted-traffic-change", registry = "byo-untrusted-registry-change" }
    error_message = "the example alarms on each kind of change"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_cloudtrail.this) == 0 && length(aws_cloudwatch_metric_alarm.this) == 0 && output.trail_name == null
    error_message = "create = false creates nothing"
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    trusted_role_arns  = ["byo-operator"]
    log_retention_days = 42
    object_lock        = { mode = "FOREVER", days = 1 }
    s3_key_prefix      = "/cloudtrail/"
  }

  expect_failures = [var.trusted_role_arns, var.log_retention_days, var.object_lock, var.s3_key_prefix]
}
