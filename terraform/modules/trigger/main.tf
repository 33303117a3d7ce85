data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  create         = var.create
  account_id     = data.aws_caller_identity.current.account_id
  region         = data.aws_region.current.name
  partition      = data.aws_partition.current.partition
  function_name  = "${var.name}-trigger"
  log_group_name = "/aws/lambda/${local.function_name}"
  dlq_name       = "${local.function_name}-dlq"
  tags           = merge({ Name = var.name }, var.tags)
  in_vpc         = length(var.subnet_ids) > 0 && length(var.security_group_ids) > 0

  environment = merge(
    {
      JOB_QUEUE             = var.job_queue_arn
      JOB_DEFINITION        = var.job_definition_arn
      JOB_TABLE             = var.job_table_name
      INPUT_PREFIX          = var.input_prefix
      ARRAY_THRESHOLD_BYTES = tostring(var.array_threshold_bytes)
    },
    var.environment,
  )
}

# ---------------------------------------------------------------------------------------------
# Log group (created before the function so Lambda does not create an unencrypted, unexpiring one)
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "this" {
  count = local.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(local.tags, { Name = local.log_group_name })
}

# ---------------------------------------------------------------------------------------------
# Dead-letter queue: S3 events the function failed to process after Lambda's async retries
# ---------------------------------------------------------------------------------------------
resource "aws_sqs_queue" "this" {
  count = local.create ? 1 : 0

  name                              = local.dlq_name
  message_retention_seconds         = var.dlq_message_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  tags = merge(local.tags, { Name = local.dlq_name })
}

# ---------------------------------------------------------------------------------------------
# Function
# ---------------------------------------------------------------------------------------------
# Plan and destroy work without the package (a machine that never built it keeps the hash in
# state); an apply that creates or updates the function uploads it, and this says why it cannot.
check "package_exists" {
  assert {
    condition     = fileexists(var.package_path)
    error_message = "package_path ${var.package_path} does not exist: an apply that creates or updates the function needs it (the project builds it with `make lambda-package`); plan and destroy work without it."
  }
}

resource "aws_lambda_function" "this" {
  count = local.create ? 1 : 0

  # checkov:skip=CKV_AWS_272:The package is built by the project from reviewed source with fixed timestamps and pinned by source_code_hash; an AWS Signer profile is an organisation-level control to add on top.
  function_name                  = local.function_name
  description                    = "${var.name}: submits a Batch scoring job for each ${var.input_prefix}*${var.input_suffix} object"
  role                           = aws_iam_role.this[0].arn
  filename                       = var.package_path
  source_code_hash               = fileexists(var.package_path) ? filebase64sha256(var.package_path) : null
  handler                        = var.handler
  runtime                        = var.runtime
  timeout                        = var.timeout_seconds
  memory_size                    = var.memory_mb
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.environment
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.this[0].arn
  }

  tracing_config {
    mode = "Active"
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [true] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  tags = merge(local.tags, { Name = local.function_name })

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

# ---------------------------------------------------------------------------------------------
# S3 → Lambda: permission for the data bucket, then the bucket's ObjectCreated notification
# ---------------------------------------------------------------------------------------------
resource "aws_lambda_permission" "this" {
  count = local.create ? 1 : 0

  statement_id   = "AllowInvokeFromDataBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this[0].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.data_bucket_arn
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "this" {
  count = local.create ? 1 : 0

  # The bucket's notification configuration is one document: this resource owns all of it.
  bucket      = var.data_bucket_name
  eventbridge = var.eventbridge

  lambda_function {
    id                  = "${local.function_name}-input"
    lambda_function_arn = aws_lambda_function.this[0].arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.input_prefix
    filter_suffix       = var.input_suffix
  }

  depends_on = [aws_lambda_permission.this]
}
