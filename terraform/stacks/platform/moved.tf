# ---------------------------------------------------------------------------------------------
# State moves of the layout change (issue 13): resources that moved between modules keep their
# state, so an applied stack plans with nothing destroyed.
# ---------------------------------------------------------------------------------------------

# --- the platform key (kms), the model registry (registry): out of storage and endpoint ---

# --- AWS Batch job definitions (batch), the scheduled monitoring job (monitoring): out of batch and observability ---

# The scoring job definition: one entry of the batch module's job_definitions map.
moved {
  from = module.batch.aws_batch_job_definition.this[0]
  to   = module.batch.aws_batch_job_definition.this["scoring"]
}
