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

# --- AWS Batch job definitions (batch), the scheduled monitoring job (monitoring): out of batch and observability ---

# The scoring job definition: one entry of the batch module's job_definitions map.
moved {
  from = module.batch.aws_batch_job_definition.this[0]
  to   = module.batch.aws_batch_job_definition.this["scoring"]
}
