locals {
  # Known at plan time (not read back from the resources) so the role policy is reviewable in a plan.
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  dlq_arn       = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.dlq_name}"

  # SubmitJob is authorised against the definition as named in the call and as its unrevisioned
  # "…:job-definition/<name>" form, so the role must allow both.
  job_definition_unrevisioned_arn = replace(var.job_definition_arn, "/:[0-9]+$/", "")

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
