output "job_definitions" {
  description = "The jobs for the batch module's job_definitions, under the keys retrain and deploy (it names them <name>-retrain and <name>-deploy): `loops retrain` and `loops deploy` of the operators image (entry point byo), with the BYO_* environment, this module's roles and log group. Pass the ARNs the batch module makes back as job_definition_arns. null with create = false."
  value = local.create ? {
    retrain = {
      image                = var.image
      image_repository_arn = var.image_repository_arn
      command = concat(
        ["loops", "retrain", "--reason", "Ref::reason", "--data", "Ref::data", "--record", "Ref::record",
        "--pipeline-name", local.pipeline_name, "--auc-threshold", tostring(var.auc_threshold)],
        var.auto_approve_if == null ? [] : ["--auto-approve-margin", tostring(var.auto_approve_if.auc_margin)],
      )
      environment        = local.job_environment
      vcpu               = var.vcpu
      memory_mib         = var.memory_mib
      job_role_arn       = aws_iam_role.job["retrain"].arn
      execution_role_arn = aws_iam_role.execution[0].arn
      log_group_name     = aws_cloudwatch_log_group.this["jobs"].name
      # The host went away or the container failed: once more. The AUC condition failing is an
      # outcome (exit 0), not a failure.
      attempts        = 2
      timeout_seconds = var.timeout_seconds
    }
    deploy = {
      image                = var.image
      image_repository_arn = var.image_repository_arn
      command = concat([
        "loops", "deploy", "Ref::version", "--record", "Ref::record",
        "--canary-percent", tostring(var.deploy_canary_percent), "--canary-wait", tostring(var.deploy_canary_wait_seconds),
      ], flatten([for a in var.rollback_alarm_names : ["--rollback-alarm", a]]))
      environment        = local.job_environment
      vcpu               = var.vcpu
      memory_mib         = var.memory_mib
      job_role_arn       = aws_iam_role.job["deploy"].arn
      execution_role_arn = aws_iam_role.execution[0].arn
      log_group_name     = aws_cloudwatch_log_group.this["jobs"].name
      # A rollout is not repeated by itself: a rollback or a refusal is the outcome to report.
      attempts        = 1
      timeout_seconds = var.timeout_seconds
    }
  } : null
}

output "state_machine_arns" {
  description = "ARN of each loop's state machine (retraining, deploy); null until job_definition_arns are given, or with create = false."
  value = local.machines ? {
    for machine, m in aws_sfn_state_machine.this : machine => m.arn
  } : null
}

output "rule_names" {
  description = "EventBridge rule of each trigger that is on (schedule, new-data, alarm → retraining; approval → deploy); `byo loops pause|resume` disables and enables them."
  value       = local.machines ? { for k, r in aws_cloudwatch_event_rule.this : k => r.name } : null
}

output "lock_keys" {
  description = "Job table keys (FileName) of the loops' locks (retraining, deploy); each execution's record is loops/<loop>/<execution name>."
  value       = local.create ? local.lock_key : null
}

output "loops" {
  description = "What `byo loops` reads (the stack passes it on as its loops output): state machine ARNs, trigger rules, the job table, and the alarm cool-down."
  value = local.machines ? {
    state_machine_arns     = { for machine, m in aws_sfn_state_machine.this : machine => m.arn }
    rule_names             = { for k, r in aws_cloudwatch_event_rule.this : k => r.name }
    job_table              = var.job_table_name
    alarm_cooldown_seconds = var.alarm_cooldown_seconds
    training_data_uri      = local.training_data_uri
    pipeline_backend       = var.pipeline_backend
  } : null
}
