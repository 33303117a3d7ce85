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
}

variables {
  name        = "byo"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  tags        = { team = "ml" }
}

run "defaults_create_an_encrypted_versioned_tls_only_bucket_and_table" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this[0].bucket == "byo-data-111122223333-eu-west-1"
    error_message = "bucket name is derived from name, account and region"
  }
  assert {
    condition     = aws_s3_bucket.this[0].tags["Name"] == "byo-data-111122223333-eu-west-1" && aws_s3_bucket.this[0].tags["team"] == "ml"
    error_message = "bucket carries the given tags plus its Name"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.this[0].versioning_configuration).status == "Enabled"
    error_message = "bucket is versioned"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "bucket encrypts with KMS"
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.this[0].block_public_policy && aws_s3_bucket_public_access_block.this[0].restrict_public_buckets
    error_message = "public access is blocked"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "bucket policy denies requests without TLS"
  }
  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.this[0].rule).noncurrent_version_expiration[0].noncurrent_days == 30
    error_message = "noncurrent versions expire after the default 30 days"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].name == "byo-jobs" && aws_dynamodb_table.this[0].hash_key == "FileName"
    error_message = "job table keeps the seed schema: partition key FileName"
  }
  assert {
    condition     = one(aws_dynamodb_table.this[0].global_secondary_index).hash_key == "StartTime"
    error_message = "job table has the StartTime index"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled && aws_dynamodb_table.this[0].server_side_encryption[0].enabled
    error_message = "job table has PITR and SSE"
  }
  assert {
    condition     = aws_dynamodb_table.this[0].ttl[0].attribute_name == "ExpiresAt"
    error_message = "job records expire through the TTL attribute"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "access logging is off unless a log bucket is given"
  }
  assert {
    condition     = output.prefixes.input == "input/" && output.prefixes.ground_truth == "ground-truth/"
    error_message = "prefixes are exported"
  }
  assert {
    condition     = output.prefixes.checkpoints == "checkpoints/"
    error_message = "the Batch job's checkpoints prefix is exported"
  }
}

run "the_platform_key_encrypts_bucket_and_table" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/platform"
    error_message = "table uses the platform key"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:eu-west-1:111122223333:key/platform"
    error_message = "bucket uses the platform key"
  }
}

run "given_key_and_names_are_used" {
  command = plan

  variables {
    kms_key_arn       = "arn:aws:kms:eu-west-1:111122223333:key/existing"
    bucket_name       = "my-data"
    job_table_name    = "my_jobs"
    access_log_bucket = "central-logs"
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:eu-west-1:111122223333:key/existing"
    error_message = "bucket uses the given key"
  }
  assert {
    condition     = aws_s3_bucket.this[0].bucket == "my-data" && aws_dynamodb_table.this[0].name == "my_jobs"
    error_message = "explicit names are used"
  }
  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "central-logs"
    error_message = "access logs go to the given bucket"
  }
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  # The bucket's id is its name, known to AWS only after creation.
  override_resource {
    target          = module.storage.aws_s3_bucket.this
    override_during = plan
    values          = { id = "byo-data-111122223333-eu-west-1" }
  }

  assert {
    condition     = output.bucket_name == "byo-data-111122223333-eu-west-1" && output.job_table_name == "byo-jobs"
    error_message = "the example creates the data bucket and the job table with derived names"
  }
  assert {
    condition     = output.prefixes.models == "models/" && output.prefixes.checkpoints == "checkpoints/"
    error_message = "the example exports the bucket layout"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = (length(aws_s3_bucket.this) + length(aws_dynamodb_table.this)
    + length(aws_s3_bucket_policy.this) + length(aws_s3_bucket_versioning.this)) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition     = output.bucket_name == null && output.prefixes == null && output.job_table_arn == null
    error_message = "outputs are null when nothing is created"
  }
}

# Rejects a bad name, a bad bucket name, a bad key ARN, zero noncurrent days and a bad table name.
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    name                               = "Bad_Name"
    bucket_name                        = "UPPER"
    kms_key_arn                        = "alias/mine"
    noncurrent_version_expiration_days = 0
    job_table_name                     = "a"
  }
  expect_failures = [
    var.name,
    var.bucket_name,
    var.kms_key_arn,
    var.noncurrent_version_expiration_days,
    var.job_table_name,
  ]
}
