# ---------------------------------------------------------------------------------------------
# State moves of the layout change (issue 13): resources that moved between modules keep their
# state, so an applied stack plans with nothing destroyed.
# ---------------------------------------------------------------------------------------------

# --- the platform key (kms), the model registry (registry): out of storage and endpoint ---

# The platform key and its alias: storage used to create them.
moved {
  from = module.storage.aws_kms_key.this[0]
  to   = module.kms.aws_kms_key.this[0]
}

moved {
  from = module.storage.aws_kms_alias.this[0]
  to   = module.kms.aws_kms_alias.this[0]
}

# The model package group and the SageMaker pipeline's role: the endpoint module used to create them.
moved {
  from = module.endpoint.aws_sagemaker_model_package_group.this[0]
  to   = module.registry.aws_sagemaker_model_package_group.this[0]
}

moved {
  from = module.endpoint.aws_iam_role.pipeline[0]
  to   = module.registry.aws_iam_role.this[0]
}

moved {
  from = module.endpoint.aws_iam_role_policy.pipeline[0]
  to   = module.registry.aws_iam_role_policy.this[0]
}

# The operators image's repository is "<name>/operators" now; it was "<name>/monitor". ECR cannot
# rename, and the old repository may hold the only copies of pushed images, so Terraform forgets
# it (and its lifecycle policy) without deleting it: `removed` cannot name one for_each instance,
# so the instance first moves to an address of its own. Delete it by hand (stack README).
moved {
  from = module.ecr.aws_ecr_repository.this["monitor"]
  to   = aws_ecr_repository.retired_monitor
}

moved {
  from = module.ecr.aws_ecr_lifecycle_policy.this["monitor"]
  to   = aws_ecr_lifecycle_policy.retired_monitor
}

removed {
  from = aws_ecr_repository.retired_monitor

  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_ecr_lifecycle_policy.retired_monitor

  lifecycle {
    destroy = false
  }
}

# --- AWS Batch job definitions (batch), the scheduled monitoring job (monitoring): out of batch and observability ---

# The scoring job definition: one entry of the batch module's job_definitions map.
moved {
  from = module.batch.aws_batch_job_definition.this[0]
  to   = module.batch.aws_batch_job_definition.this["scoring"]
}

# The monitoring job's definition: the observability module used to create it; now the batch
# module does, from the monitoring module's job_definition (same name, <name>-monitor).
moved {
  from = module.observability.aws_batch_job_definition.monitor[0]
  to   = module.batch.aws_batch_job_definition.this["monitor"]
}

# The monitoring job's log group, roles, schedule and alarms: out of observability.
moved {
  from = module.observability.aws_cloudwatch_log_group.monitor[0]
  to   = module.monitoring.aws_cloudwatch_log_group.this[0]
}

moved {
  from = module.observability.aws_iam_role.monitor_execution[0]
  to   = module.monitoring.aws_iam_role.execution[0]
}

moved {
  from = module.observability.aws_iam_role_policy.monitor_execution[0]
  to   = module.monitoring.aws_iam_role_policy.execution[0]
}

moved {
  from = module.observability.aws_iam_role.monitor_job[0]
  to   = module.monitoring.aws_iam_role.job[0]
}

moved {
  from = module.observability.aws_iam_role_policy.monitor_job[0]
  to   = module.monitoring.aws_iam_role_policy.job[0]
}

moved {
  from = module.observability.aws_cloudwatch_event_rule.monitor[0]
  to   = module.monitoring.aws_cloudwatch_event_rule.this[0]
}

moved {
  from = module.observability.aws_cloudwatch_event_target.monitor[0]
  to   = module.monitoring.aws_cloudwatch_event_target.this[0]
}

moved {
  from = module.observability.aws_iam_role.monitor_schedule[0]
  to   = module.monitoring.aws_iam_role.schedule[0]
}

moved {
  from = module.observability.aws_iam_role_policy.monitor_schedule[0]
  to   = module.monitoring.aws_iam_role_policy.schedule[0]
}

moved {
  from = module.observability.aws_cloudwatch_metric_alarm.monitoring["drift"]
  to   = module.monitoring.aws_cloudwatch_metric_alarm.this["drift"]
}

moved {
  from = module.observability.aws_cloudwatch_metric_alarm.monitoring["data-quality"]
  to   = module.monitoring.aws_cloudwatch_metric_alarm.this["data-quality"]
}

moved {
  from = module.observability.aws_cloudwatch_metric_alarm.monitoring["model-quality"]
  to   = module.monitoring.aws_cloudwatch_metric_alarm.this["model-quality"]
}

moved {
  from = module.observability.aws_cloudwatch_metric_alarm.monitoring["attribution"]
  to   = module.monitoring.aws_cloudwatch_metric_alarm.this["attribution"]
}
