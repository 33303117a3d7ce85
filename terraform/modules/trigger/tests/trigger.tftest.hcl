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
  mock_resource "aws_sqs_queue" {
    override_during = plan
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111122223333:byo-trigger-dlq"
      url = "https://sqs.eu-west-1.amazonaws.com/111122223333/byo-trigger-dlq"
    }
  }
  mock_resource "aws_lambda_function" {
    override_during = plan
    defaults        = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:byo-trigger" }
  }
  mock_resource "aws_iam_role" {
    override_during = plan
    defaults        = { arn = "arn:aws:iam::111122223333:role/byo-trigger" }
  }
}

variables {
  name               = "byo"
  package_path       = "tests/fixtures/trigger.zip"
  data_bucket_name   = "byo-data-111122223333-eu-west-1"
  data_bucket_arn    = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  job_queue_arn      = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
  job_definition_arn = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-scoring:3"
  job_table_name     = "byo-jobs"
  job_table_arn      = "arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"
  kms_key_arn        = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  tags               = { team = "ml" }
}

run "defaults_wire_the_function_to_batch_and_the_job_table" {
  command = plan

  variables {
    environment = { LOG_LEVEL = "DEBUG" }
  }

  assert {
    condition     = aws_lambda_function.this[0].function_name == "byo-trigger" && aws_lambda_function.this[0].handler == "batch_processor.trigger.handler"
    error_message = "function is <name>-trigger with the package's handler"
  }
  assert {
    condition     = aws_lambda_function.this[0].runtime == "python3.12" && aws_lambda_function.this[0].memory_size == 256 && aws_lambda_function.this[0].timeout == 30
    error_message = "runtime, memory and timeout defaults apply"
  }
  assert {
    condition     = aws_lambda_function.this[0].source_code_hash == filebase64sha256("tests/fixtures/trigger.zip")
    error_message = "source_code_hash is the package's hash"
  }
  assert {
    condition = (aws_lambda_function.this[0].environment[0].variables == tomap({
      JOB_QUEUE             = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
      JOB_DEFINITION        = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-scoring:3"
      JOB_TABLE             = "byo-jobs"
      INPUT_PREFIX          = "input/"
      ARRAY_THRESHOLD_BYTES = "268435456"
      LOG_LEVEL             = "DEBUG"
    }))
    error_message = "environment holds the queue, definition, table, prefix, threshold and the extra variables"
  }
  assert {
    condition     = aws_lambda_function.this[0].reserved_concurrent_executions == 10
    error_message = "concurrency is reserved (default 10)"
  }
  assert {
    condition     = aws_lambda_function.this[0].kms_key_arn == var.kms_key_arn && aws_lambda_function.this[0].tracing_config[0].mode == "Active"
    error_message = "environment is encrypted with the platform key and tracing is active"
  }
  assert {
    condition     = aws_lambda_function.this[0].dead_letter_config[0].target_arn == "arn:aws:sqs:eu-west-1:111122223333:byo-trigger-dlq"
    error_message = "failed events go to the DLQ"
  }
  assert {
    condition     = length(aws_lambda_function.this[0].vpc_config) == 0
    error_message = "no VPC config without subnets"
  }
  assert {
    condition     = aws_lambda_function.this[0].tags["Name"] == "byo-trigger" && aws_lambda_function.this[0].tags["team"] == "ml"
    error_message = "function carries the given tags plus its Name"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this[0].name == "/aws/lambda/byo-trigger" && aws_cloudwatch_log_group.this[0].retention_in_days == 365 && aws_cloudwatch_log_group.this[0].kms_key_id == var.kms_key_arn
    error_message = "log group is the function's, kept 365 days, KMS-encrypted"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "only Lambda assumes the role"
  }
  assert {
    condition     = output.function_name == "byo-trigger" && output.dlq_name == "byo-trigger-dlq" && output.log_group_name == "/aws/lambda/byo-trigger"
    error_message = "outputs are set"
  }
  assert {
    condition     = output.function_arn == "arn:aws:lambda:eu-west-1:111122223333:function:byo-trigger" && output.role_arn == "arn:aws:iam::111122223333:role/byo-trigger"
    error_message = "ARN outputs are set"
  }
  assert {
    condition     = output.dlq_arn == "arn:aws:sqs:eu-west-1:111122223333:byo-trigger-dlq" && startswith(output.dlq_url, "https://")
    error_message = "DLQ outputs are set"
  }
}

run "role_policy_is_least_privilege" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : [
        for a in s.Action : a != "*" && !endswith(a, ":*")
      ]
    ]))
    error_message = "no wildcard actions"
  }
  assert {
    condition = toset(one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if contains(s.Action, "batch:SubmitJob")
      ])) == toset([
      "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring",
      "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-scoring:3",
      "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-scoring",
    ])
    error_message = "SubmitJob is allowed on exactly the queue and the job definition (revisioned and unrevisioned)"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if contains(s.Action, "dynamodb:PutItem")
    ]) == ["arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"]
    error_message = "job records are written to the job table only"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if contains(s.Action, "s3:GetObject")
    ]) == ["arn:aws:s3:::byo-data-111122223333-eu-west-1/input/*"]
    error_message = "S3 reads are limited to the input prefix"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if contains(s.Action, "logs:PutLogEvents")
    ]) == ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/byo-trigger:*"]
    error_message = "logs go to the function's own log group only"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if contains(s.Action, "sqs:SendMessage")
    ]) == ["arn:aws:sqs:eu-west-1:111122223333:byo-trigger-dlq"]
    error_message = "messages go to the DLQ only"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if contains(s.Action, "kms:Decrypt")
    ]) == ["arn:aws:kms:eu-west-1:111122223333:key/platform"]
    error_message = "only the platform key is used"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid == "WriteTraces" if contains(s.Resource, "*")
    ])
    error_message = "outside a VPC only X-Ray (no resource-level permissions) has Resource \"*\""
  }
  assert {
    condition = length([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if anytrue([for a in s.Action : startswith(a, "ec2:")])
    ]) == 0
    error_message = "no ENI permissions outside a VPC"
  }
  # Notification filters input csvs:
  assert {
    condition     = aws_s3_bucket_notification.this[0].bucket == "byo-data-111122223333-eu-west-1"
    error_message = "notification is on the data bucket"
  }
  assert {
    condition     = aws_s3_bucket_notification.this[0].lambda_function[0].filter_prefix == "input/" && aws_s3_bucket_notification.this[0].lambda_function[0].filter_suffix == ".csv"
    error_message = "only input/*.csv triggers the function"
  }
  assert {
    condition     = aws_s3_bucket_notification.this[0].lambda_function[0].events == toset(["s3:ObjectCreated:*"])
    error_message = "every ObjectCreated event triggers"
  }
  assert {
    condition     = aws_s3_bucket_notification.this[0].lambda_function[0].lambda_function_arn == "arn:aws:lambda:eu-west-1:111122223333:function:byo-trigger"
    error_message = "notification targets the function"
  }
  assert {
    condition     = aws_lambda_permission.this[0].principal == "s3.amazonaws.com" && aws_lambda_permission.this[0].source_arn == var.data_bucket_arn && aws_lambda_permission.this[0].source_account == "111122223333"
    error_message = "only the data bucket of this account may invoke the function"
  }
  # Dlq is encrypted and keeps events 14 days:
  assert {
    condition     = aws_sqs_queue.this[0].name == "byo-trigger-dlq" && aws_sqs_queue.this[0].kms_master_key_id == var.kms_key_arn
    error_message = "DLQ is encrypted with the platform key"
  }
  assert {
    condition     = aws_sqs_queue.this[0].message_retention_seconds == 1209600
    error_message = "DLQ keeps events 14 days by default"
  }
}

run "custom_prefix_and_suffix_reach_notification_and_policy" {
  command = plan

  variables {
    input_prefix          = "incoming/batch/"
    input_suffix          = ".csv.gz"
    array_threshold_bytes = 1048576
  }

  assert {
    condition     = aws_s3_bucket_notification.this[0].lambda_function[0].filter_prefix == "incoming/batch/" && aws_s3_bucket_notification.this[0].lambda_function[0].filter_suffix == ".csv.gz"
    error_message = "custom prefix and suffix filter the notification"
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if contains(s.Action, "s3:GetObject")
    ]) == ["arn:aws:s3:::byo-data-111122223333-eu-west-1/incoming/batch/*"]
    error_message = "S3 reads follow the prefix"
  }
  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables["INPUT_PREFIX"] == "incoming/batch/" && aws_lambda_function.this[0].environment[0].variables["ARRAY_THRESHOLD_BYTES"] == "1048576"
    error_message = "prefix and threshold reach the environment"
  }
}

run "subnets_put_the_function_in_the_vpc" {
  command = plan

  variables {
    subnet_ids         = ["subnet-0a1", "subnet-0b2"]
    security_group_ids = ["sg-0c3"]
  }

  assert {
    condition     = aws_lambda_function.this[0].vpc_config[0].subnet_ids == toset(["subnet-0a1", "subnet-0b2"]) && aws_lambda_function.this[0].vpc_config[0].security_group_ids == toset(["sg-0c3"])
    error_message = "function runs in the given subnets and security groups"
  }
  assert {
    condition = contains(one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Action if s.Sid == "ManageVpcNetworkInterfaces"
    ]), "ec2:CreateNetworkInterface")
    error_message = "role may manage the function's network interfaces"
  }
}

run "a_missing_package_still_plans_and_the_check_says_why_apply_needs_it" {
  command = plan

  variables {
    package_path = "tests/fixtures/not-built.zip"
  }

  assert {
    condition     = aws_lambda_function.this[0].filename == "tests/fixtures/not-built.zip"
    error_message = "the plan names the package the apply would upload"
  }
  expect_failures = [check.package_exists]
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  variables {
    package_path = "tests/fixtures/trigger.zip"
  }

  assert {
    condition     = output.function_name == "byo-trigger" && output.dlq_name == "byo-trigger-dlq"
    error_message = "the example creates the trigger function and its dead-letter queue"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = (length(aws_lambda_function.this) + length(aws_iam_role.this) + length(aws_iam_role_policy.this)
      + length(aws_sqs_queue.this) + length(aws_cloudwatch_log_group.this) + length(aws_lambda_permission.this)
    + length(aws_s3_bucket_notification.this)) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition = (output.function_name == null && output.function_arn == null && output.role_arn == null && output.dlq_arn == null
    && output.dlq_url == null && output.dlq_name == null && output.log_group_name == null)
    error_message = "outputs are null when nothing is created"
  }
}

# rejects_bad_inputs_1: one bad value per variable, each must be rejected:
#   rejects_a_bad_name (var.name)
#   rejects_a_package_that_is_not_a_zip (var.package_path)
#   rejects_zero_reserved_concurrency (var.reserved_concurrency)
#   rejects_64_mb_memory (var.memory_mb)
#   rejects_a_bad_log_retention (var.log_retention_days)
#   rejects_an_unrevisioned_job_definition (var.job_definition_arn)
#   rejects_subnets_without_security_groups (var.security_group_ids)
#   rejects_a_bad_key_arn (var.kms_key_arn)
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    # rejects_a_bad_name
    name = "Bad_Name"
    # rejects_a_package_that_is_not_a_zip
    package_path = "tests/fixtures/trigger.tar.gz"
    # rejects_zero_reserved_concurrency
    reserved_concurrency = 0
    # rejects_64_mb_memory
    memory_mb = 64
    # rejects_a_bad_log_retention
    log_retention_days = 42
    # rejects_an_unrevisioned_job_definition
    job_definition_arn = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-scoring"
    # rejects_subnets_without_security_groups
    subnet_ids = ["subnet-0a1"]
    # rejects_a_bad_key_arn
    kms_key_arn = "alias/platform"
  }
  expect_failures = [
    var.name,
    var.package_path,
    var.reserved_concurrency,
    var.memory_mb,
    var.log_retention_days,
    var.job_definition_arn,
    var.security_group_ids,
    var.kms_key_arn,
  ]
}
