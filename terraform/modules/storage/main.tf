data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  create      = var.create
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition
  bucket_name = coalesce(var.bucket_name, "${var.name}-data-${local.account_id}-${local.region}")
  table_name  = coalesce(var.job_table_name, "${var.name}-jobs")
  tags        = merge({ Name = var.name }, var.tags)
  bucket_arn  = "arn:${local.partition}:s3:::${local.bucket_name}"

  # What each prefix of the data bucket holds (the layout every component agrees on).
  prefixes = {
    input        = "input/"        # CSVs to score; input/<name>.csv triggers a Batch job
    output       = "output/"       # output/<timestamp>-<name>.csv: one score per input row
    errors       = "errors/"       # errors/<timestamp>-<name>.csv: rejected rows with line and reason
    captures     = "captures/"     # endpoint data capture (SageMaker JSONL)
    ground_truth = "ground-truth/" # ground-truth JSONL, yyyy/mm/dd/hh/
    monitoring   = "monitoring/"   # baselines, statistics, constraint violations, reports
    models       = "models/"       # model artifacts, content-addressed
    pipelines    = "pipelines/"    # SageMaker pipelines' data, step outputs and run records, <pipeline>/
    checkpoints  = "checkpoints/"  # the Batch scoring job's progress, to resume a large file after a retry
    datasets     = "datasets/"     # labelled training data; a new object here starts a retraining (the loops)
  }
}

# ---------------------------------------------------------------------------------------------
# Data bucket
# ---------------------------------------------------------------------------------------------
resource "aws_s3_bucket" "this" {
  count = local.create ? 1 : 0

  # checkov:skip=CKV_AWS_144:Cross-region replication is a per-organisation DR decision; the bucket is versioned and replication can be added on top.
  # checkov:skip=CKV2_AWS_62:Event notifications for input/*.csv are configured by the trigger module, which owns them.
  # checkov:skip=CKV_AWS_18:Access logging is opt-in through var.access_log_bucket (a central log bucket is the organisation's).
  bucket        = local.bucket_name
  force_destroy = var.force_destroy

  tags = merge(local.tags, { Name = local.bucket_name })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = local.create ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  count = local.create && var.access_log_bucket != null ? 1 : 0

  bucket        = aws_s3_bucket.this[0].id
  target_bucket = var.access_log_bucket
  target_prefix = "${local.bucket_name}/"
}

# ---------------------------------------------------------------------------------------------
# Job table: one record per submitted object version (FileName), indexed by StartTime
# ---------------------------------------------------------------------------------------------
resource "aws_dynamodb_table" "this" {
  count = local.create ? 1 : 0

  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "FileName"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "FileName"
    type = "S"
  }

  attribute {
    name = "StartTime"
    type = "S"
  }

  global_secondary_index {
    name            = "StartTimeIndex"
    hash_key        = "StartTime"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  ttl {
    attribute_name = var.job_ttl_attribute
    enabled        = true
  }

  tags = merge(local.tags, { Name = local.table_name })
}
