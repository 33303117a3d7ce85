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
