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
  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn    = "arn:aws:kms:eu-west-1:111122223333:key/created"
      key_id = "created"
    }
  }
}

variables {
  name = "byo"
  tags = { team = "ml" }
}

run "defaults_create_a_rotating_key_with_its_alias" {
  command = plan

  assert {
    condition     = aws_kms_key.this[0].enable_key_rotation
    error_message = "a created key rotates"
  }
  assert {
    condition     = aws_kms_key.this[0].deletion_window_in_days == 30
    error_message = "the key waits the default 30 days before deletion"
  }
  assert {
    condition     = aws_kms_key.this[0].tags["Name"] == "byo" && aws_kms_key.this[0].tags["team"] == "ml"
    error_message = "the key carries the given tags plus its Name"
  }
  assert {
    condition     = aws_kms_alias.this[0].name == "alias/byo-platform" && aws_kms_alias.this[0].target_key_id == "created"
    error_message = "the alias is alias/<name>-platform and points at the key"
  }
  assert {
    condition     = output.key_arn == "arn:aws:kms:eu-west-1:111122223333:key/created" && output.key_id == "created" && output.alias_name == "alias/byo-platform"
    error_message = "the key's ARN, id and alias are exported"
  }
  # Key policy lets the account administer and the platform services use it:
  assert {
    condition = [for s in jsondecode(aws_kms_key.this[0].policy).Statement : s.Sid] == [
      "AccountAdministers", "CloudWatchLogsEncryptsPlatformLogGroups", "AlarmsAndEventsPublishToEncryptedTopics",
    ]
    error_message = "the key policy grants the account, CloudWatch Logs and the topic publishers"
  }
  assert {
    condition     = one([for s in jsondecode(aws_kms_key.this[0].policy).Statement : s.Principal.AWS if s.Sid == "AccountAdministers"]) == "arn:aws:iam::111122223333:root"
    error_message = "the account administers the key (its IAM policies decide who else uses it)"
  }
  assert {
    condition = one([for s in jsondecode(aws_kms_key.this[0].policy).Statement : s if s.Sid == "CloudWatchLogsEncryptsPlatformLogGroups"]).Principal.Service == "logs.eu-west-1.amazonaws.com" && one([
      for s in jsondecode(aws_kms_key.this[0].policy).Statement : s if s.Sid == "CloudWatchLogsEncryptsPlatformLogGroups"
    ]).Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:111122223333:log-group:*"
    error_message = "CloudWatch Logs of the region may use the key for the account's log groups only"
  }
  assert {
    condition = one([for s in jsondecode(aws_kms_key.this[0].policy).Statement : s if s.Sid == "AlarmsAndEventsPublishToEncryptedTopics"]).Principal.Service == ["cloudwatch.amazonaws.com", "events.amazonaws.com"] && one([
      for s in jsondecode(aws_kms_key.this[0].policy).Statement : s if s.Sid == "AlarmsAndEventsPublishToEncryptedTopics"
    ]).Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "alarms and EventBridge rules of this account may publish to encrypted topics"
  }
  # Without allow cloudtrail the key policy names no cloudtrail:
  assert {
    condition     = !strcontains(aws_kms_key.this[0].policy, "cloudtrail")
    error_message = "CloudTrail gets nothing unless allow_cloudtrail"
  }
}

run "grants_to_logs_and_topic_publishers_can_be_left_out" {
  command = plan

  variables {
    allow_cloudwatch_logs    = false
    topic_publisher_services = []
    deletion_window_in_days  = 7
  }

  assert {
    condition     = [for s in jsondecode(aws_kms_key.this[0].policy).Statement : s.Sid] == ["AccountAdministers"]
    error_message = "only the account administers the key"
  }
  assert {
    condition     = aws_kms_key.this[0].deletion_window_in_days == 7
    error_message = "the deletion window is passed through"
  }
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = output.key_arn == "arn:aws:kms:eu-west-1:111122223333:key/created" && output.alias_name == "alias/byo-platform"
    error_message = "the example creates the platform key and its alias"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_kms_key.this) + length(aws_kms_alias.this) == 0
    error_message = "create = false creates no key"
  }
  assert {
    condition     = output.key_arn == null && output.key_id == null && output.alias_name == null
    error_message = "outputs are null when nothing is created"
  }
}

# Rejects a bad name, a short deletion window and a publisher that is not a service principal.
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    name                     = "Bad_Name"
    deletion_window_in_days  = 3
    topic_publisher_services = ["arn:aws:iam::111122223333:root"]
  }
  expect_failures = [
    var.name,
    var.deletion_window_in_days,
    var.topic_publisher_services,
  ]
}

run "allow_cloudtrail_lets_this_accounts_trails_encrypt_with_the_key" {
  command = plan

  variables {
    allow_cloudtrail = true
  }

  assert {
    condition = (
      local.cloudtrail_statement.Principal.Service == "cloudtrail.amazonaws.com"
      && local.cloudtrail_statement.Condition.StringEquals["aws:SourceAccount"] == "111122223333"
      && local.cloudtrail_statement.Condition.StringLike["kms:EncryptionContext:aws:cloudtrail:arn"] == "arn:aws:cloudtrail:*:111122223333:trail/*"
    )
    error_message = "the key policy lets this account's trails, and only them, generate data keys"
  }
}
