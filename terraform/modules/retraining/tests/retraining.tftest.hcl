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
    override_during = plan
    defaults        = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/mocked" }
  }
  mock_resource "aws_sfn_state_machine" {
    override_during = plan
    defaults        = { arn = "arn:aws:states:eu-west-1:111122223333:stateMachine:mocked" }
  }
}

override_resource {
  target          = aws_iam_role.execution
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-loops-execution" }
}

override_resource {
  target          = aws_iam_role.job
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-loops-job" }
}

override_resource {
  target          = aws_iam_role.machine
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-machine" }
}

override_resource {
  target          = aws_iam_role.events
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-loops-triggers" }
}

variables {
  name                         = "byo"
  kms_key_arn                  = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  image                        = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators:1.0.0"
  image_repository_arn         = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
  serving_image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/serving:1.0.0"
  job_queue_arn                = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
  job_definition_arns          = { retrain = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-retrain:2", deploy = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-deploy:5" }
  job_table_name               = "byo-jobs"
  job_table_arn                = "arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"
  data_bucket_name             = "byo-data-111122223333-eu-west-1"
  data_bucket_arn              = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  sns_topic_arn                = "arn:aws:sns:eu-west-1:111122223333:byo-alarms"
  endpoint_name                = "byo"
  model_package_group_name     = "byo-models"
  sagemaker_execution_role_arn = "arn:aws:iam::111122223333:role/byo-sagemaker"
  retrain_on_alarms            = ["byo-monitor-drift", "byo-monitor-model-quality"]
  tags                         = { team = "ml" }
}

run "create_false_creates_nothing" {
  command = plan
  variables {
    create = false
  }
  assert {
    condition = (length(aws_sfn_state_machine.this) + length(aws_cloudwatch_event_rule.this)
      + length(aws_cloudwatch_event_target.this) + length(aws_iam_role.job) + length(aws_iam_role.machine) + length(aws_iam_role.events)
    + length(aws_iam_role.execution) + length(aws_cloudwatch_log_group.this)) == 0
    error_message = "create = false creates nothing"
  }
  assert {
    condition     = output.job_definitions == null && output.state_machine_arns == null && output.rule_names == null && output.loops == null && output.lock_keys == null
    error_message = "outputs are null when nothing is created"
  }
}

run "without_job_definitions_only_the_jobs_are_described" {
  command = plan
  variables {
    job_definition_arns = null
  }
  assert {
    condition     = length(aws_sfn_state_machine.this) == 0 && length(aws_cloudwatch_event_rule.this) == 0 && keys(output.job_definitions) == ["deploy", "retrain"]
    error_message = "the jobs come first; the machines and triggers once the batch module made the definitions"
  }
}

run "the_retrain_job_runs_byo_loops_retrain_with_the_stack_environment" {
  command = plan
  assert {
    condition = output.job_definitions.retrain.command == [
      "loops", "retrain", "--reason", "Ref::reason", "--data", "Ref::data", "--record", "Ref::record",
      "--pipeline-name", "byo-pipeline", "--auc-threshold", "0.9",
    ]
    error_message = "the retrain job is byo loops retrain with the trigger's reason, data and record"
  }
  assert {
    condition = (output.job_definitions.retrain.environment.BYO_JOB_TABLE == "byo-jobs"
      && output.job_definitions.retrain.environment.BYO_MODEL_PACKAGE_GROUP == "byo-models"
      && output.job_definitions.retrain.environment.BYO_SERVING_IMAGE == "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/serving:1.0.0"
    && jsondecode(output.job_definitions.retrain.environment.BYO_DATA_PREFIXES).datasets == "datasets/")
    error_message = "the job gets everything it needs from its environment"
  }
  assert {
    condition     = output.job_definitions.deploy.command == ["loops", "deploy", "Ref::version", "--record", "Ref::record", "--canary-percent", "10", "--canary-wait", "300"] && output.job_definitions.deploy.attempts == 1
    error_message = "the deploy job is byo loops deploy of the approved version, tried once"
  }
  # The retraining machine holds the loop trains notifies and releases:
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this["retraining"].definition).StartAt == "Defaults"
    error_message = "the machine starts by filling the input's defaults"
  }
  assert {
    condition = (jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.Acquire.Parameters.ConditionExpression == "attribute_not_exists(Holder)"
    && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.Acquire.Catch[0].ErrorEquals == ["DynamoDB.ConditionalCheckFailedException"])
    error_message = "one execution at a time: a held loop sends the trigger to RecordSkipped"
  }
  assert {
    condition = (!contains(keys(jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.ReadHolder), "ResultSelector")
      && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.ReadHolder.Next == "Held?"
      && [for c in jsondecode(aws_sfn_state_machine.this["retraining"].definition).States["Held?"].Choices[0].And : c.Variable if c.IsPresent] == ["$.lock.Item.Holder.S", "$.lock.Item.HeldSince.S"]
    && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States["Held?"].Choices[0].Next == "RecordSkipped")
    error_message = "the holder is read with nothing that fails on a lock released meanwhile (no Holder, no item): only a holder that is there is recorded"
  }
  assert {
    condition = (jsondecode(aws_sfn_state_machine.this["retraining"].definition).States["Held?"].Default == "TryAgain"
      && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.TryAgain.Next == "Acquire"
      && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States["Held?"].Choices[1].NumericGreaterThanEquals == 3
    && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States["Held?"].Choices[1].Next == "RecordContended")
    error_message = "a loop released as its holder is read is tried again, 3 times at most, then the trigger is recorded as skipped"
  }
  assert {
    condition = (jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.Train.Resource == "arn:aws:states:::batch:submitJob.sync"
      && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.Train.Parameters.JobDefinition == "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-retrain:2"
    && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.Train.Retry[0].BackoffRate == 2)
    error_message = "training is the retrain Batch job, waited for, with transient Batch errors retried with backoff"
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.Release.Parameters.ConditionExpression == "Holder = :holder" && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.CoolDown.SecondsPath == "$.cooldown_seconds"
    error_message = "the loop is released by its holder after the cool-down"
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.Notify.Next == "CoolDown" && jsondecode(aws_sfn_state_machine.this["deploy"].definition).States.Notify.Next == "Deployed?"
    error_message = "both machines publish what their job recorded, then go on (retraining: to its cool-down; deploy: to its verdict)"
  }
  assert {
    condition     = aws_sfn_state_machine.this["retraining"].tracing_configuration[0].enabled && aws_sfn_state_machine.this["retraining"].logging_configuration[0].level == "ALL"
    error_message = "executions are traced and logged"
  }
  # Iam is scoped:
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.machine["retraining"].policy).Statement : s.Sid] == ["SubmitItsJob", "WaitForItsJob", "ManagedRuleForBatchSync", "LockAndRecord", "Notify", "UsePlatformKeyForTopicAndTable", "DeliverLogsAndTraces"]
    error_message = "the batch backend's machine submits and waits for its job"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.machine["deploy"].policy).Statement[0].Resource == ["arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring", "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-deploy:5", "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-deploy"]
    error_message = "the deploy machine submits only the deploy job"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.machine["retraining"].policy).Statement[3].Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["loops/*"]
    error_message = "the machines touch only the loops' items of the job table"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.events[0].policy).Statement[0].Resource == ["arn:aws:states:eu-west-1:111122223333:stateMachine:byo-deploy", "arn:aws:states:eu-west-1:111122223333:stateMachine:byo-retraining"]
    error_message = "the triggers may start the two machines only"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.deploy[0].policy).Statement : !contains(flatten([s.Action]), "*")])
    error_message = "no * actions"
  }
}

run "the_sagemaker_backend_starts_and_polls_the_pipeline" {
  command = plan
  variables {
    pipeline_backend = "sagemaker"
  }
  assert {
    condition = (jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.Train.Resource == "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution"
    && jsondecode(aws_sfn_state_machine.this["retraining"].definition).States.DescribePipeline.Resource == "arn:aws:states:::aws-sdk:sagemaker:describePipelineExecution")
    error_message = "the SageMaker backend starts the pipeline and polls it"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.machine["retraining"].policy).Statement : s.Sid] == ["RunTheSageMakerPipeline", "LockAndRecord", "Notify", "UsePlatformKeyForTopicAndTable", "DeliverLogsAndTraces"]
    error_message = "the SageMaker backend's machine may not submit Batch jobs"
  }
}

run "each_trigger_has_its_rule" {
  command = plan
  variables {
    retrain_schedule = "rate(7 days)"
  }
  assert {
    condition     = keys(aws_cloudwatch_event_rule.this) == ["alarm", "approval", "new-data", "schedule"]
    error_message = "schedule, new data, alarms and approval each have a rule"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["new-data"].event_pattern).detail.object.key == [{ prefix = "datasets/" }]
    error_message = "new objects under datasets/ retrain"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["alarm"].event_pattern).detail.alarmName == ["byo-monitor-drift", "byo-monitor-model-quality"] && jsondecode(aws_cloudwatch_event_rule.this["alarm"].event_pattern).detail.state.value == ["ALARM"]
    error_message = "the alarms going to ALARM retrain"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.this["alarm"].input_transformer[0].input_template).cooldown_seconds == 3600
    error_message = "an alarm's retraining carries the cool-down"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["approval"].event_pattern).detail.ModelApprovalStatus == ["Approved"] && aws_cloudwatch_event_target.this["approval"].target_id == "deploy-machine"
    error_message = "an approval starts the deploy machine"
  }
}

run "triggers_switch_off" {
  command = plan
  variables {
    retrain_on_new_data = false
    retrain_on_alarms   = []
    deploy_on_approval  = false
  }
  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 0 && output.rule_names == {}
    error_message = "each trigger is switchable"
  }
}

run "auto_approve_passes_the_margin" {
  command = plan
  variables {
    auto_approve_if = { auc_margin = 0.01 }
  }
  assert {
    condition     = contains(output.job_definitions.retrain.command, "--auto-approve-margin") && contains(output.job_definitions.retrain.command, "0.01")
    error_message = "auto_approve_if gives the job its AUC margin"
  }
}

# rejects_bad_inputs_1: one bad value per variable, each must be rejected:
#   rejects_a_bad_schedule (var.retrain_schedule)
#   rejects_a_bad_backend (var.pipeline_backend)
#   rejects_a_long_cooldown (var.alarm_cooldown_seconds)
#   rejects_a_margin_above_1 (var.auto_approve_if)
#   rejects_a_bad_queue_arn (var.job_queue_arn)
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    # rejects_a_bad_schedule
    retrain_schedule = "every day"
    # rejects_a_bad_backend
    pipeline_backend = "airflow"
    # rejects_a_long_cooldown
    alarm_cooldown_seconds = 100000
    # rejects_a_margin_above_1
    auto_approve_if = { auc_margin = 2 }
    # rejects_a_bad_queue_arn
    job_queue_arn = "byo-scoring"
  }
  expect_failures = [
    var.retrain_schedule,
    var.pipeline_backend,
    var.alarm_cooldown_seconds,
    var.auto_approve_if,
    var.job_queue_arn,
  ]
}

run "the_basic_example_wires_the_jobs_through_the_batch_module" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = keys(output.rule_names) == ["alarm", "approval", "new-data", "schedule"]
    error_message = "the example turns every trigger on"
  }
}
