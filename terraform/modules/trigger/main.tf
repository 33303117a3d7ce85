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

  # Known at plan time (not read back from the resources) so the role policy is reviewable in a plan.
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  dlq_arn       = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.dlq_name}"

  # SubmitJob is authorised against the definition as named in the call and as its unrevisioned
  # "…:job-definition/<name>" form, so the role must allow both.
  job_definition_unrevisioned_arn = replace(var.job_definition_arn, "/:[0-9]+$/", "")

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

  policy_statements = concat(
    [
      {
        Sid      = "SubmitScoringJobs"
        Effect   = "Allow"
        Action   = ["batch:SubmitJob"]
        Resource = [var.job_queue_arn, var.job_definition_arn, local.job_definition_unrevisioned_arn]
      },
      {
        Sid      = "RecordJobs"
        Effect   = "Allow"
        Action   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
        Resource = [var.job_table_arn]
      },
      {
        # HeadObject (size decides single vs array job) is authorised by s3:GetObject.
        Sid      = "ReadInputObjectMetadata"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${var.data_bucket_arn}/${var.input_prefix}*"]
      },
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${local.log_group_arn}:*"]
      },
      {
        Sid      = "DeadLetterFailedEvents"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [local.dlq_arn]
      },
      {
        # Decrypt the environment; encrypt messages for the KMS-encrypted DLQ.
        Sid      = "UsePlatformKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
      },
      {
        # Active tracing: X-Ray has no resource-level permissions, AWS requires Resource "*".
        Sid      = "WriteTraces"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = ["*"]
      },
    ],
    local.in_vpc ? [
      {
        # Lambda manages the function's network interfaces with the execution role; AWS requires
        # Resource "*" for these EC2 actions (the role check at CreateFunction fails otherwise).
        Sid    = "ManageVpcNetworkInterfaces"
        Effect = "Allow"
        Action = [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSubnets",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ]
        Resource = ["*"]
      },
    ] : [],
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
# Execution role: submit jobs, record them, read input metadata, log, dead-letter
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "this" {
  count = local.create ? 1 : 0

  name        = local.function_name
  description = "${var.name}: S3 trigger that submits Batch scoring jobs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })

  tags = merge(local.tags, { Name = local.function_name })
}

resource "aws_iam_role_policy" "this" {
  count = local.create ? 1 : 0

  name = "${local.function_name}-permissions"
  role = aws_iam_role.this[0].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.policy_statements
  })
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
resource "aws_lambda_function" "this" {
  count = local.create ? 1 : 0

  # checkov:skip=CKV_AWS_272:The package is built by the project from reviewed source with fixed timestamps and pinned by source_code_hash; an AWS Signer profile is an organisation-level control to add on top.
  function_name                  = local.function_name
  description                    = "${var.name}: submits a Batch scoring job for each ${var.input_prefix}*${var.input_suffix} object"
  role                           = aws_iam_role.this[0].arn
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
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
  bucket = var.data_bucket_name

  lambda_function {
    id                  = "${local.function_name}-input"
    lambda_function_arn = aws_lambda_function.this[0].arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.input_prefix
    filter_suffix       = var.input_suffix
  }

  depends_on = [aws_lambda_permission.this]
}
